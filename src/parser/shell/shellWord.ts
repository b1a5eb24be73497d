import { CodePointScanner, EOF } from './scanner.ts';
import { WordCollector } from './words.ts';
import { lookupEnv, type ShellEnv } from './env.ts';
import { PatternError, substitute, trimPrefix, trimSuffix } from './pattern.ts';

/** ScanOptions are the lexer switches (buildkit's Lex fields). */
export interface ScanOptions {
  escape: string;
  /** Keep quote characters in the output. */
  rawQuotes: boolean;
  /** Keep escape characters in the output. */
  rawEscapes: boolean;
  /** Leave references to unset variables as written (`$X`, `${X:-y}`). */
  skipUnsetEnv: boolean;
}

/** ExpansionFailure is a malformed word or a `${X?msg}` on an unset variable; the caller adds context. */
export class ExpansionFailure extends Error {}

const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!']);
const DIGIT = /^\p{Nd}$/u;
const NAME_CHAR = /^[\p{L}\p{Nd}_]$/u;

/**
 * ShellWord scans one input once, producing both the joined result and the
 * word-split view (the reference does the same in one pass), and records
 * which variables were looked up and found or not.
 */
export class ShellWord {
  private readonly sc: CodePointScanner;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(text: string, private readonly env: ShellEnv, private readonly opts: ScanOptions) {
    this.sc = new CodePointScanner(text);
    this.rawEscapes = opts.rawEscapes;
  }

  /** run processes the whole input. */
  run(): { result: string; words: string[] } {
    return this.processStopOn(EOF, this.rawEscapes);
  }

  private processStopOn(stop: string, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.scanUntil(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private scanUntil(stop: string): { result: string; words: string[] } {
    let result = '';
    const words = new WordCollector();
    while (this.sc.peek() !== EOF) {
      const ch = this.sc.peek();
      if (stop !== EOF && ch === stop) {
        this.sc.next();
        return { result, words: words.finish() };
      }
      if (ch === '$') {
        const v = this.processDollar();
        result += v;
        words.addString(v);
      } else if (ch === "'" || ch === '"') {
        const v = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
        result += v;
        words.addRawString(v);
      } else {
        result += this.plainChar(words);
      }
    }
    if (stop !== EOF) throw new ExpansionFailure(`unexpected end of statement while looking for matching ${stop}`);
    return { result, words: words.finish() };
  }

  /** plainChar consumes one unquoted character (an escape pair, a heredoc `<<`, or anything else). */
  private plainChar(words: WordCollector): string {
    let ch = this.sc.next();
    if (ch === this.opts.escape) {
      let out = '';
      if (this.rawEscapes) { words.addRawChar(ch); out = ch; }
      ch = this.sc.next();
      if (ch === EOF) return out;
      words.addRawChar(ch);
      return out + ch;
    }
    if (ch === '<' && this.sc.peek() === '<') {
      let out = ch + this.sc.next();
      while (this.sc.peek() === ' ' || this.sc.peek() === '\t' || this.sc.peek() === '\r') out += this.sc.next();
      for (const c of out) words.addRawChar(c);
      return out;
    }
    words.addChar(ch);
    return ch;
  }

  private processSingleQuote(): string {
    let out = this.opts.rawQuotes ? this.sc.next() : (this.sc.next(), '');
    for (;;) {
      const ch = this.sc.next();
      if (ch === EOF) throw new ExpansionFailure('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return this.opts.rawQuotes ? out + ch : out;
      out += ch;
    }
  }

  private processDoubleQuote(): string {
    let out = this.opts.rawQuotes ? this.sc.next() : (this.sc.next(), '');
    for (;;) {
      const peek = this.sc.peek();
      if (peek === EOF) throw new ExpansionFailure('unexpected end of statement while looking for matching double-quote');
      if (peek === '"') {
        const ch = this.sc.next();
        return this.opts.rawQuotes ? out + ch : out;
      }
      if (peek === '$') { out += this.processDollar(); continue; }
      let ch = this.sc.next();
      if (ch === this.opts.escape) {
        const after = this.sc.peek();
        if (after === EOF) continue; // a trailing escape is dropped; the quote is then unterminated
        if (after === '"' || after === '$' || after === this.opts.escape) {
          if (this.rawEscapes) out += ch;
          ch = this.sc.next();
        }
      }
      out += ch;
    }
  }

  private getEnv(name: string): string | undefined {
    const v = lookupEnv(this.env, name);
    if (v === undefined) this.unmatched.add(name);
    else this.matched.add(name);
    return v;
  }

  private processName(): string {
    let name = '';
    for (let ch = this.sc.peek(); ch !== EOF; ch = this.sc.peek()) {
      if (name === '' && DIGIT.test(ch)) {
        while (this.sc.peek() !== EOF && DIGIT.test(this.sc.peek())) name += this.sc.next();
        return name;
      }
      if (name === '' && SPECIAL_PARAMS.has(ch)) return this.sc.next();
      if (!NAME_CHAR.test(ch)) break;
      name += this.sc.next();
    }
    return name;
  }

  private processDollar(): string {
    this.sc.next();
    if (this.sc.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const v = this.getEnv(name);
      if (v === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return v ?? '';
    }
    this.sc.next();
    const first = this.sc.peek();
    if (first === EOF) throw new ExpansionFailure("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new ExpansionFailure('syntax error: bad substitution');
    const name = this.processName();
    const op = this.sc.next();
    if (op === '}') {
      const v = this.getEnv(name);
      if (v === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
      return v ?? '';
    }
    if (op === '/') return this.substitution(name);
    if (op === ':' || op === '+' || op === '-' || op === '?' || op === '#' || op === '%') return this.modifier(name, op);
    if (this.opts.skipUnsetEnv && op !== EOF) return `\${${name}}`;
    throw new ExpansionFailure(`unsupported modifier (${op}) in substitution`);
  }

  /** operand reads a modifier's operand up to the closing brace. */
  private operand(stop: string, rawEscapes: boolean, missing: string): string {
    try {
      return this.processStopOn(stop, rawEscapes).result;
    } catch (e) {
      if (this.sc.peek() === EOF) throw new ExpansionFailure(missing);
      throw e;
    }
  }

  private modifier(name: string, first: string): string {
    let op = first;
    let mod = first;
    const colon = first === ':';
    if (colon) { op = this.sc.next(); mod += op; }
    const pattern = op === '#' || op === '%';
    if (colon && pattern) throw new ExpansionFailure(`unsupported modifier (${mod}) in substitution`);
    let word = this.operand('}', pattern, "syntax error: missing '}'");
    const value = this.getEnv(name);
    if (this.opts.skipUnsetEnv && value === undefined) return `\${${name}${mod}${word}}`;
    const unset = value === undefined || (colon && value === '');
    switch (op) {
      case '-': return unset ? word : value!;
      case '+': return unset ? '' : word;
      case '?':
        if (value === undefined) throw new ExpansionFailure(`${name}: ${word || 'is not allowed to be unset'}`);
        if (unset) throw new ExpansionFailure(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      case '#': case '%': {
        const greedy = word.startsWith(op);
        if (greedy) word = word.slice(1);
        return this.withPattern(word, () => (op === '%' ? trimSuffix : trimPrefix)(word, value ?? '', greedy));
      }
      default:
        throw new ExpansionFailure(`unsupported modifier (${mod}) in substitution`);
    }
  }

  private substitution(name: string): string {
    const all = this.sc.peek() === '/';
    if (all) this.sc.next();
    const pattern = this.operand('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.operand('}', true, "syntax error: missing '}'");
    const value = this.getEnv(name);
    if (this.opts.skipUnsetEnv && value === undefined) return `\${${name}/${pattern}/${replacement}}`;
    return this.withPattern(pattern, () => substitute(pattern, replacement, value ?? '', all));
  }

  private withPattern(pattern: string, f: () => string): string {
    try {
      return f();
    } catch (e) {
      if (e instanceof PatternError) throw new ExpansionFailure(`invalid pattern (${pattern}) in substitution: ${e.message}`);
      throw e;
    }
  }
}
