// Cognito's public JSON API (no AWS credentials, no client secret): the operations a signed-out or
// signed-in user may call. https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/

export class AuthError extends Error {
  constructor(type, message) {
    super(message || type);
    this.type = type;
  }
}

const FRIENDLY = {
  NotAuthorizedException: "The email or password is not right.",
  UserNotFoundException: "The email or password is not right.",
  PasswordResetRequiredException: "Your password has to be reset: use “Forgot your password?”.",
  UserNotConfirmedException: "This account is not confirmed yet: ask an admin.",
  InvalidPasswordException: "That password is too weak: at least 12 characters, with upper- and lower-case letters and a number.",
  CodeMismatchException: "That code is not right. Check it and try again.",
  ExpiredCodeException: "That code has expired. Ask for a new one.",
  LimitExceededException: "Too many attempts. Wait a few minutes and try again.",
  TooManyRequestsException: "Too many attempts. Wait a few minutes and try again.",
  EnableSoftwareTokenMFAException: "That code is not right. Check the time on your phone and try again.",
};

export function friendly(error) {
  if (error instanceof AuthError) {
    if (error.type === "NotAuthorizedException" && /expired|revoked|session/i.test(error.message)) {
      return "Your sign-in has expired. Please sign in again.";
    }
    return FRIENDLY[error.type] || error.message;
  }
  return "The sign-in service cannot be reached. Check your connection and try again.";
}

export class Cognito {
  constructor(endpoint, clientId) {
    this.endpoint = endpoint;
    this.clientId = clientId;
  }

  async call(operation, body) {
    const response = await fetch(this.endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${operation}`,
      },
      body: JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const type = String(data.__type || data.code || "UnknownError").split("#").pop();
      throw new AuthError(type, data.message || data.Message || response.statusText);
    }
    return data;
  }

  signIn(email, password) {
    return this.call("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH", ClientId: this.clientId,
      AuthParameters: { USERNAME: email, PASSWORD: password },
    });
  }

  answer(challenge, session, responses) {
    return this.call("RespondToAuthChallenge", {
      ChallengeName: challenge, ClientId: this.clientId, Session: session, ChallengeResponses: responses,
    });
  }

  refresh(refreshToken) {
    return this.call("InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: this.clientId, AuthParameters: { REFRESH_TOKEN: refreshToken },
    });
  }

  forgotPassword(email) {
    return this.call("ForgotPassword", { ClientId: this.clientId, Username: email });
  }

  confirmForgotPassword(email, code, password) {
    return this.call("ConfirmForgotPassword", {
      ClientId: this.clientId, Username: email, ConfirmationCode: code, Password: password,
    });
  }

  globalSignOut(accessToken) {
    return this.call("GlobalSignOut", { AccessToken: accessToken });
  }

  associateSoftwareToken(accessToken) {
    return this.call("AssociateSoftwareToken", { AccessToken: accessToken });
  }

  verifySoftwareToken(accessToken, code) {
    return this.call("VerifySoftwareToken", { AccessToken: accessToken, UserCode: code, FriendlyDeviceName: "Staff console" });
  }

  preferSoftwareToken(accessToken) {
    return this.call("SetUserMFAPreference", {
      AccessToken: accessToken, SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
    });
  }
}
