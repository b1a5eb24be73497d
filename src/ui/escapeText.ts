/**
 * Characters that are not printable on one line: C0 and C1 controls (ESC and CSI start terminal
 * escape sequences; CR, LF, TAB move the cursor), DEL, format characters (bidi overrides,
 * zero-width ones), line and paragraph separators, spaces other than U+0020, lone surrogates.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Zs}]/gu;

const NAMED: Readonly<Record<string, string>> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };

function escapeOne(ch: string): string {
  if (ch === ' ') return ch;
  const named = NAMED[ch];
  if (named !== undefined) return named;
  const cp = ch.codePointAt(0)!;
  if (cp < 0x80) return `\\x${cp.toString(16).padStart(2, '0')}`;
  return cp > 0xffff ? `\\U${cp.toString(16).padStart(8, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
}

/**
 * escapeText makes text safe to print as (part of) one terminal line: every unprintable
 * character is written as Go's %q writes it (`\r`, `\t`, `\x1b`, `\u202e`, `\u2028`), so text
 * from a Buildfile, an argument or the context can neither break the line nor reach the terminal
 * as a control sequence. Backslashes stay as they are (Buildfile text is full of them), so a
 * typed `\n` reads like an escaped newline; the line structure is what this guarantees.
 */
export function escapeText(s: string): string {
  return s.replace(UNPRINTABLE, escapeOne);
}

/**
 * escapeJson does the same for a line of JSON (JSON.stringify escapes only C0 controls): every
 * other unprintable character, which can only be inside a string, becomes `\uXXXX` (UTF-16 code
 * units), so the line stays valid JSON that parses to the same value.
 */
export function escapeJson(json: string): string {
  return json.replace(UNPRINTABLE, (ch) => (ch === ' ' ? ch : [...Array(ch.length).keys()].map((i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')));
}
