import { describe, expect, test } from 'vitest';
import { parseTemplate } from '../../../src/containers/format/template.ts';
import { renderTable } from '../../../src/containers/format/table.ts';

const HEADERS = { ID: 'IMAGE', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };
const rows = [
  { ID: 'abc123abc123', CreatedBy: 'sh', Size: '9B', Comment: 'Add node' },
  { ID: '<missing>', CreatedBy: '/bin/sh -c #(nop) ADD file:x in /', Size: '1.98MB', Comment: '' },
];

describe('renderTable (Docker tabwriter: min width 10, padding 3)', () => {
  test('pads every cell but the last of a row', () => {
    expect(renderTable([['IMAGE', 'SIZE', 'COMMENT'], ['abc123abc123', '9B', 'x']])).toBe(
      'IMAGE          SIZE      COMMENT\n' +
      'abc123abc123   9B        x\n',
    );
  });
});

describe('parseTemplate (a subset of Go templates, as --format takes)', () => {
  test('plain format: one line per row, \\t escapes become tabs', () => {
    const t = parseTemplate('{{.ID}} {{.CreatedBy}}\\t{{ .Size }}', HEADERS);
    expect(t.table).toBe(false);
    expect(t.render(rows)).toBe('abc123abc123 sh\t9B\n<missing> /bin/sh -c #(nop) ADD file:x in /\t1.98MB\n');
  });

  test('table format: a header row from the field titles, aligned columns', () => {
    const t = parseTemplate('table {{.ID}}\\t{{.Size}}\\t{{.Comment}}', HEADERS);
    expect(t.render(rows)).toBe(
      'IMAGE          SIZE      COMMENT\n' +
      'abc123abc123   9B        Add node\n' +
      '<missing>      1.98MB    \n',
    );
  });

  test('json and dotted paths', () => {
    const t = parseTemplate('{{json .}}|{{.State.Status}}|{{json .State}}|{{.Args}}', {});
    expect(t.render([{ State: { Status: 'running' }, Args: ['-c', 'x'] }])).toBe(
      '{"State":{"Status":"running"},"Args":["-c","x"]}|running|{"Status":"running"}|[-c x]\n',
    );
  });

  test('lenient: a missing field prints <no value>, as over Go maps', () => {
    expect(parseTemplate('{{.A.B}}|{{.C}}|{{json .C}}', {}, { lenient: true }).render([{ A: {} }])).toBe('<no value>|<no value>|null\n');
  });

  test.each([
    ['{{.Nope}}', /can't evaluate field Nope/], // unknown field, found while rendering
    ['{{.ID', /unclosed action/],
    ['{{upper .ID}}', /unsupported action/], // functions other than json
    ['table {{.Nope}}', /can't evaluate field Nope/], // a table column needs a title
  ])('%s is a usage error', (format, msg) => {
    expect(() => parseTemplate(format, HEADERS).render(rows)).toThrow(msg);
  });
});
