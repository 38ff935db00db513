/** Errors that know nothing of HTTP; the HTTP error mapper turns them into status codes. */
export class GantryError extends Error {
  readonly details?: unknown;
  constructor(message: string, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}
export class NotFound extends GantryError {}
export class Conflict extends GantryError {}
export class InvalidInput extends GantryError {}
export class NotAllowed extends GantryError {}
export class Unauthenticated extends GantryError {}
/** Too many attempts (failed sign-ins): try again after `retryAfterS` seconds. */
export class TooManyAttempts extends GantryError {
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(message, { retryAfterS });
  }
}
