import { InvalidInput, NotFound } from '../errors.js';

export class UnknownRef extends NotFound {
  constructor(ref: string, url: string) {
    super(
      `unknown ref "${ref}" in ${redactUrl(url)}: not a commit, branch or tag. Push it first or check the spelling.`,
      { ref },
    );
  }
}

export class AmbiguousRef extends InvalidInput {
  constructor(ref: string, url: string) {
    super(
      `ref "${ref}" is ambiguous in ${redactUrl(url)}: several commits start with it. Use more characters of the SHA.`,
      { ref },
    );
  }
}

export class RepoUnreadable extends InvalidInput {
  constructor(url: string, reason: string) {
    super(
      `could not read repository "${redactUrl(url)}": ${reason}. Check the URL or path and that you can clone it.`,
      { url: redactUrl(url) },
    );
  }
}

/** Credentials in a clone URL must not end up in error messages, logs or API responses. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@');
}
