// The signed-in staff member: tokens in sessionStorage (this tab only, gone when it closes; never in a URL
// or a log), renewed with the refresh token before the ID token expires, dropped after the idle time-out.

const KEY = "staffSession";
const ACTIVITY = "staffActivity";
const RENEW_EARLY_MS = 5 * 60 * 1000;
const CHECK_EVERY_MS = 15 * 1000;

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || (body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "";
    this.fields = error.fields || {};
  }
}

/** Who is signed in in this tab, from the saved ID token (for the page only; the API checks the token). */
export function savedIdentity() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (!saved || !saved.id) return null;
    const claims = claimsOf(saved.id);
    const groups = claims["cognito:groups"] || [];
    return { email: claims.email || "", role: ["admin", "staff", "viewer"].find((r) => groups.includes(r)) || "" };
  } catch {
    return null;
  }
}

function claimsOf(idToken) {
  try {
    const part = idToken.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
  } catch {
    return {};
  }
}

export class Session {
  constructor(cognito, { idleMinutes, onEnd }) {
    this.cognito = cognito;
    this.idleMs = idleMinutes * 60 * 1000;
    this.onEnd = onEnd;
    this.renewTimer = null;
    this.idleTimer = null;
    this.tokens = this.load();
  }

  load() {
    try {
      return JSON.parse(sessionStorage.getItem(KEY) || "null");
    } catch {
      return null;
    }
  }

  get signedIn() {
    return Boolean(this.tokens && this.tokens.refresh);
  }

  get claims() {
    return this.tokens ? claimsOf(this.tokens.id) : {};
  }

  get email() {
    return this.claims.email || "";
  }

  /** The highest role of the `cognito:groups` claim (what the API enforces; the page only adapts). */
  get role() {
    const groups = this.claims["cognito:groups"] || [];
    return ["admin", "staff", "viewer"].find((role) => groups.includes(role)) || "";
  }

  can(role) {
    const rank = { viewer: 1, staff: 2, admin: 3 };
    return (rank[this.role] || 0) >= rank[role];
  }

  /** Keeps an AuthenticationResult (sign-in, challenge answer or refresh: the last has no refresh token). */
  keep(result) {
    const refresh = result.RefreshToken || (this.tokens && this.tokens.refresh);
    this.tokens = {
      id: result.IdToken, access: result.AccessToken, refresh,
      expires_at: Date.now() + Number(result.ExpiresIn || 3600) * 1000,
    };
    sessionStorage.setItem(KEY, JSON.stringify(this.tokens));
    this.touch();
    this.start();
  }

  touch() {
    sessionStorage.setItem(ACTIVITY, String(Date.now()));
  }

  start() {
    clearTimeout(this.renewTimer);
    clearInterval(this.idleTimer);
    if (!this.signedIn) return;
    const wait = Math.max(0, this.tokens.expires_at - RENEW_EARLY_MS - Date.now());
    this.renewTimer = setTimeout(() => this.renew().catch(() => this.end("Your sign-in has expired. Please sign in again.")), wait);
    this.idleTimer = setInterval(() => this.checkIdle(), CHECK_EVERY_MS);
  }

  checkIdle() {
    const last = Number(sessionStorage.getItem(ACTIVITY) || 0);
    if (this.signedIn && Date.now() - last > this.idleMs) {
      const minutes = Math.round(this.idleMs / 60000);
      this.end(`You were signed out after ${minutes} minutes without activity.`);
    }
  }

  async renew() {
    const answer = await this.cognito.refresh(this.tokens.refresh);
    this.keep(answer.AuthenticationResult);
  }

  /** Forgets the tokens in this tab (the idle time-out, an expired refresh token). */
  end(message) {
    clearTimeout(this.renewTimer);
    clearInterval(this.idleTimer);
    this.tokens = null;
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(ACTIVITY);
    this.onEnd(message);
  }

  /** Sign-out: forgets the tokens here at once, then revokes the refresh token everywhere (GlobalSignOut). */
  async signOut() {
    const access = this.tokens && this.tokens.access;
    this.end("You are signed out.");
    if (access) await this.cognito.globalSignOut(access).catch(() => undefined);
  }

  /** The API's JSON answer; an ApiError (status, code, fields) for a 4xx/5xx. */
  async api(method, path, body) {
    const response = await this.send(method, path, body);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  /** A file the API answers (CSV, JSON attachment, QR image) as a Blob. */
  async file(path) {
    const response = await this.send("GET", path);
    if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
    return response.blob();
  }

  /** The request with the ID token, renewed first when it is about to expire and once more on a 401. */
  async send(method, path, body) {
    const send = () => fetch(path, {
      method,
      headers: {
        Accept: "application/json, text/csv, image/*, application/pdf",
        Authorization: `Bearer ${this.tokens ? this.tokens.id : ""}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
    if (this.signedIn && Date.now() > this.tokens.expires_at - 30 * 1000) await this.renew().catch(() => undefined);
    let response = await send();
    if (response.status === 401 && this.signedIn) {
      try {
        await this.renew();
        response = await send();
      } catch {
        this.end("Your sign-in has expired. Please sign in again.");
      }
    }
    return response;
  }
}
