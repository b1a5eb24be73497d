import { TsbuildError } from '../../core/errors.ts';
import { renderTable } from './table.ts';

/**
 * A subset of the Go templates that Docker's `--format` takes: literal text,
 * `{{.Field}}` and dotted paths `{{.State.Status}}`, `{{.}}`, `{{json .}}` /
 * `{{json .Field}}`, and the `table ` prefix (a header row, columns aligned as
 * Docker aligns them). As Docker does, the two-character sequences `\t` and
 * `\n` in the format stand for a tab and a newline.
 */
export interface Template {
  /** Whether the format started with `table `. */
  readonly table: boolean;
  /** render formats the rows (plus a header row for a table): one line per row. */
  render(rows: readonly unknown[]): string;
}

type Part = { text: string } | { json: boolean; path: string[] };

/** TemplateOptions tune parseTemplate. */
export interface TemplateOptions {
  /**
   * A missing field prints `<no value>` instead of failing, as Go templates
   * do over maps (`inspect` formats decoded JSON; `ps` and friends format
   * structs, where an unknown field is an error).
   */
  lenient?: boolean;
}

/**
 * parseTemplate compiles format. headers maps field names to column titles
 * (`CreatedSince` → `CREATED`); for a table, fields not in headers are an
 * error (they could not have a title), as are unknown functions and
 * unterminated actions: TsbuildError('USAGE').
 */
export function parseTemplate(format: string, headers: Readonly<Record<string, string>>, opts: TemplateOptions = {}): Template {
  let f = format;
  const table = f.startsWith('table');
  if (table) f = f.slice('table'.length);
  f = f.trim().replaceAll('\\t', '\t').replaceAll('\\n', '\n');
  const parts = parseParts(f, format);
  if (table) {
    for (const p of parts) {
      if ('path' in p && p.path.length > 0 && !(p.path[0]! in headers)) throw unknownField(p.path[0]!, headers);
    }
  }
  return {
    table,
    render(rows) {
      const lenient = opts.lenient === true;
      if (!table) return rows.map((r) => `${renderParts(parts, r, lenient)}\n`).join('');
      const headerRow = parts.map((p) => ('text' in p ? p.text : p.path.length ? headers[p.path[0]!]! : '')).join('');
      const lines = [headerRow, ...rows.map((r) => renderParts(parts, r, lenient))];
      return renderTable(lines.map((l) => l.split('\t')));
    },
  };
}

function parseParts(f: string, original: string): Part[] {
  const parts: Part[] = [];
  let pos = 0;
  while (pos < f.length) {
    const open = f.indexOf('{{', pos);
    if (open < 0) { parts.push({ text: f.slice(pos) }); break; }
    if (open > pos) parts.push({ text: f.slice(pos, open) });
    const close = f.indexOf('}}', open + 2);
    if (close < 0) throw new TsbuildError('USAGE', `invalid --format "${original}": unclosed action`);
    parts.push(parseAction(f.slice(open + 2, close).trim(), original));
    pos = close + 2;
  }
  return parts;
}

function parseAction(a: string, original: string): Part {
  const words = a.split(/\s+/).filter(Boolean);
  let json = false;
  if (words[0] === 'json') {
    json = true;
    words.shift();
  }
  const arg = words[0];
  if (words.length !== 1 || !arg!.startsWith('.')) {
    throw new TsbuildError('USAGE', `invalid --format "${original}": unsupported action {{${a}}}`, { hint: 'use {{.Field}}, {{.A.B}} or {{json .}}' });
  }
  return { json, path: arg === '.' ? [] : arg!.slice(1).split('.') };
}

function renderParts(parts: readonly Part[], row: unknown, lenient: boolean): string {
  return parts.map((p) => ('text' in p ? p.text : renderValue(lookup(row, p.path, lenient), p.json))).join('');
}

function lookup(row: unknown, path: readonly string[], lenient: boolean): unknown {
  let v = row;
  for (const key of path) {
    if (lenient && (v === null || v === undefined || (typeof v === 'object' && !(key in v)))) return undefined;
    if (v === null || typeof v !== 'object' || !(key in v)) {
      throw new TsbuildError('USAGE', `--format: can't evaluate field ${key}`, { hint: `fields here: ${fieldsOf(v).join(', ') || 'none'}` });
    }
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function fieldsOf(v: unknown): string[] {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [];
}

/** renderValue prints v as Go's text/template would print the equivalent Go value. */
function renderValue(v: unknown, json: boolean): string {
  if (json) return JSON.stringify(v ?? null);
  if (v === null || v === undefined) return '<no value>';
  if (Array.isArray(v)) return `[${v.map((x) => renderValue(x, false)).join(' ')}]`;
  if (typeof v === 'object') {
    return `map[${Object.keys(v).sort().map((k) => `${k}:${renderValue((v as Record<string, unknown>)[k], false)}`).join(' ')}]`;
  }
  return String(v);
}

function unknownField(name: string, headers: Readonly<Record<string, string>>): TsbuildError {
  return new TsbuildError('USAGE', `--format: can't evaluate field ${name}`, { hint: `fields: ${Object.keys(headers).join(', ')}` });
}
