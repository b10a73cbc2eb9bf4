/** Built-in secret patterns: what each masks. Replacements keep the context and mask the secret. */
export interface SecretPattern {
  regex: RegExp;
  /** Replaces one match; returning the match itself leaves it alone (e.g. a failed Luhn check). */
  replace: (match: string, mask: string, ...groups: string[]) => string;
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export const builtinPatterns = {
  /** `Bearer <token>` (Authorization headers in access logs). */
  bearer: {
    regex: /\b(bearer)(\s+)[A-Za-z0-9\-._~+/]+=*/gi,
    replace: (_m, mask, word, space) => `${word}${space}${mask}`,
  },
  /** Payment card numbers (13–19 digits, spaces or dashes allowed) that pass the Luhn check. */
  card: {
    regex: /\b\d(?:[ -]?\d){12,18}\b/g,
    replace: (match, mask) => {
      const digits = match.replace(/[ -]/g, "");
      return digits.length >= 13 && luhn(digits) ? mask : match;
    },
  },
  /** `password=…`, `secret: …`, `token=…`, `api_key=…` and similar key/value secrets. */
  password: {
    regex:
      /\b((?:pass(?:word|wd)?|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret)"?\s*[=:]\s*"?)([^\s",&]+)/gi,
    replace: (_m, mask, key) => `${key}${mask}`,
  },
  /** JSON Web Tokens (three base64url parts, the first starting with eyJ). */
  jwt: {
    regex: /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g,
    replace: (_m, mask) => mask,
  },
  /** E-mail addresses. */
  email: {
    regex: /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g,
    replace: (_m, mask) => mask,
  },
} satisfies Record<string, SecretPattern>;

export type BuiltinPatternName = keyof typeof builtinPatterns;
