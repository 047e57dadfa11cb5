// Sign-in screens: email + password, the first-login new password, the TOTP code, forgot/reset password
// and setting up two-step sign-in. Every Cognito error is shown next to the field it is about.

import { friendly } from "./cognito.js";
import { $, clearErrors, fieldError, say } from "./dom.js";

const CODE = /^\d{6}$/;

export function wireSignIn({ cognito, session, show, signedIn }) {
  let pending = null; // { challenge, session, email } while Cognito waits for an answer

  async function finish(answer, email) {
    if (answer.AuthenticationResult) {
      pending = null;
      session.keep(answer.AuthenticationResult);
      await signedIn();
      return;
    }
    pending = { challenge: answer.ChallengeName, session: answer.Session, email };
    if (answer.ChallengeName === "NEW_PASSWORD_REQUIRED") {
      show("newpassword");
      $("newpassword").focus();
    } else if (answer.ChallengeName === "SOFTWARE_TOKEN_MFA") {
      show("mfa");
      $("mfa-code").focus();
    } else {
      say(`This sign-in needs a step the console does not support (${answer.ChallengeName}). Ask an admin.`, { error: true });
    }
  }

  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    const email = $("signin-email").value.trim();
    const password = $("signin-password").value;
    if (!email) return fieldError("signin-email", "Enter your email address.");
    if (!password) return fieldError("signin-password", "Enter your password.");
    say("Signing in…");
    try {
      const answer = await cognito.signIn(email, password);
      $("signin-password").value = "";
      say("");
      await finish(answer, email);
    } catch (error) {
      say("");
      fieldError("signin-password", friendly(error));
    }
  });

  $("newpassword-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(event.currentTarget);
    const password = $("newpassword").value;
    if (password.length < 12) return fieldError("newpassword", "Use at least 12 characters.");
    try {
      const answer = await cognito.answer("NEW_PASSWORD_REQUIRED", pending.session,
        { USERNAME: pending.email, NEW_PASSWORD: password });
      $("newpassword").value = "";
      await finish(answer, pending.email);
    } catch (error) {
      fieldError("newpassword", friendly(error));
    }
  });

  $("mfa-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(event.currentTarget);
    const code = $("mfa-code").value.trim();
    if (!CODE.test(code)) return fieldError("mfa-code", "Enter the 6 digits your app shows.");
    try {
      const answer = await cognito.answer("SOFTWARE_TOKEN_MFA", pending.session,
        { USERNAME: pending.email, SOFTWARE_TOKEN_MFA_CODE: code });
      $("mfa-code").value = "";
      await finish(answer, pending.email);
    } catch (error) {
      fieldError("mfa-code", friendly(error));
    }
  });

  $("forgot-start").addEventListener("click", () => {
    $("forgot-email").value = $("signin-email").value;
    $("forgot-form").hidden = false;
    $("reset-form").hidden = true;
    show("forgot");
    $("forgot-email").focus();
  });
  $("forgot-back").addEventListener("click", () => {
    show("signin");
    $("signin-email").focus();
  });

  $("forgot-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(event.currentTarget);
    const email = $("forgot-email").value.trim();
    if (!email) return fieldError("forgot-email", "Enter your email address.");
    try {
      await cognito.forgotPassword(email);
      say("If that address has an account, a code is on its way to it.");
      $("reset-form").hidden = false;
      $("reset-code").focus();
    } catch (error) {
      fieldError("forgot-email", friendly(error));
    }
  });

  $("reset-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(event.currentTarget);
    const code = $("reset-code").value.trim();
    const password = $("reset-password").value;
    if (!code) return fieldError("reset-code", "Enter the code from the email.");
    if (password.length < 12) return fieldError("reset-password", "Use at least 12 characters.");
    try {
      await cognito.confirmForgotPassword($("forgot-email").value.trim(), code, password);
      $("reset-password").value = "";
      $("signin-email").value = $("forgot-email").value.trim();
      show("signin");
      say("Your password is changed. Sign in with it now.");
      $("signin-password").focus();
    } catch (error) {
      const field = error.type === "InvalidPasswordException" ? "reset-password" : "reset-code";
      fieldError(field, friendly(error));
    }
  });

  $("mfa-start").addEventListener("click", async () => {
    try {
      const answer = await cognito.associateSoftwareToken(session.tokens.access);
      $("mfa-secret").textContent = answer.SecretCode;
      show("mfasetup");
      $("mfasetup-code").focus();
    } catch (error) {
      say(friendly(error), { error: true });
    }
  });
  $("mfasetup-cancel").addEventListener("click", () => signedIn());

  $("mfasetup-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(event.currentTarget);
    const code = $("mfasetup-code").value.trim();
    if (!CODE.test(code)) return fieldError("mfasetup-code", "Enter the 6 digits your app shows.");
    try {
      await cognito.verifySoftwareToken(session.tokens.access, code);
      await cognito.preferSoftwareToken(session.tokens.access);
      $("mfasetup-code").value = "";
      $("mfa-secret").textContent = "";
      await signedIn("Two-step sign-in is on: from now on you also type a code from your app when you sign in.");
    } catch (error) {
      fieldError("mfasetup-code", friendly(error));
    }
  });
}
