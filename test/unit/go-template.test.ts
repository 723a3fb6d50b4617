import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, parseFormat, unescapeFormat, TemplateExecError, TemplateParseError } from '../../src/render/go-template.js';
import { tabwriteText } from '../../src/render/tabwriter.js';

function run(src: string, data: unknown = {}): string {
  return compileTemplate(src)(data);
}

// A row the way `docker ps` sees the container "web" (keys deliberately not sorted).
const psRow = {
  ID: '44b0b9564122',
  Names: 'web',
  Image: 'busybox',
  Command: '"httpd -f -p 8080"',
  CreatedAt: '2026-11-29 05:22:33 +0000 UTC',
  RunningFor: '24 seconds ago',
  Ports: '',
  State: 'running',
  Status: 'Up 24 seconds',
  Size: '0B (virtual 1.98MB)',
  Labels: '',
  LocalVolumes: '0',
  Mounts: '',
  Networks: 'bridge',
};

// Part of `docker inspect web`, as the Engine API returns it.
const inspect = {
  Name: '/web',
  Config: { Cmd: ['httpd', '-f', '-p', '8080'], Labels: {}, Env: ['PATH=/bin'] },
  State: { Status: 'running', Running: true, Pid: 7287, Health: null },
};

test('{{json .}} of a ps row equals real docker output', () => {
  // `docker ps -a --format '{{json .}}'`, pasted verbatim: keys sorted, as docker's map is.
  const real =
    '{"Command":"\\"httpd -f -p 8080\\"","CreatedAt":"2026-11-29 05:22:33 +0000 UTC","ID":"44b0b9564122","Image":"busybox","Labels":"","LocalVolumes":"0","Mounts":"","Names":"web","Networks":"bridge","Ports":"","RunningFor":"24 seconds ago","Size":"0B (virtual 1.98MB)","State":"running","Status":"Up 24 seconds"}';
  assert.equal(run('{{json .}}', psRow), real);
});

test('{{json .}} of a row escapes HTML like docker images does, {{json .X}} does not', () => {
  // Real `docker images --format '{{json .}}'` printed "Digest":"\u003cnone\u003e".
  assert.equal(run('{{json .}}', { Tag: 'latest', Digest: '<none>' }), '{"Digest":"\\u003cnone\\u003e","Tag":"latest"}');
  // Real `docker inspect --format '{{json "<&>"}}'` printed "<&>".
  assert.equal(run('{{json "<&>"}}'), '"<&>"');
  assert.equal(run('{{json .Digest}}', { Digest: '<none>' }), '"<none>"');
  // inspect-style data keeps key order and is not escaped.
  assert.equal(compileTemplate('{{json .}}', { rowContext: false })({ b: '<', a: 1 }), '{"b":"<","a":1}');
  assert.equal(run('{{json .State}}', inspect), '{"Status":"running","Running":true,"Pid":7287,"Health":null}');
  assert.equal(run('{{json .Missing}}', { Missing: undefined }), 'null');
  assert.equal(run('{{json "a\\u2028b"}}'), '"a\\u2028b"');
});

test('docker functions match real docker inspect output', () => {
  // `docker inspect web --format '…'` with the same template printed exactly this.
  const tpl =
    '{{join .Config.Cmd ", "}}|{{upper .Name}}|{{title "hello world"}}|{{truncate .Name 3}}|{{pad .Name 1 2}}|{{split "a,b" ","}}|{{println "x" 1}}|{{print "a" 1 2 "b" "c"}}';
  assert.equal(run(tpl, inspect), 'httpd, -f, -p, 8080|/WEB|Hello World|/we| /web  |[a b]|x 1\n|a1 2bc');
  assert.equal(run('{{range $i, $e := .Config.Cmd}}{{$i}}={{$e}};{{end}}', inspect), '0=httpd;1=-f;2=-p;3=8080;');
  assert.equal(run('{{printf "%d-%s-%v" 3 "x" .Config.Cmd}}|{{len .Config.Cmd}}|{{index .Config.Cmd 1}}', inspect), '3-x-[httpd -f -p 8080]|4|-f');
  assert.equal(run('{{.Config.Labels}}', inspect), 'map[]');
  assert.equal(run('{{title "foo_bar-baz qux"}}'), 'Foo_bar-Baz Qux');
  assert.equal(run('{{pad "" 1 1}}|{{split "web" ""}}|{{lower "ABC"}}|{{truncate "web" 10}}'), '|[w e b]|abc|web');
});

test('fields, nesting, dot and pipelines', () => {
  assert.equal(run('{{.Names}} {{.State.Status}}', { Names: 'web', State: { Status: 'up' } }), 'web up');
  assert.equal(run('{{.}}', 'hello'), 'hello');
  assert.equal(run('{{.Names | upper}}', psRow), 'WEB');
  assert.equal(run('{{.Names | upper | printf "%q"}}', psRow), '"WEB"');
  assert.equal(run('{{"x" | printf "%s-%s" "a"}}'), 'a-x');
  assert.equal(run('{{(.State).Status}}', inspect), 'running');
  assert.equal(run('{{with .State}}{{.Status}}{{end}}', inspect), 'running');
  assert.equal(run('{{$n := .Names}}{{$n}}', psRow), 'web');
  assert.equal(run('{{$}}', 'root'), 'root');
  // Class getters and methods work like Go struct fields and methods.
  class Ctx {
    get ID() {
      return 'abc';
    }
    Short(n: number) {
      return 'abcdef'.slice(0, n);
    }
  }
  assert.equal(run('{{.ID}} {{.Short 2}}', new Ctx()), 'abc ab');
});

test("Go's default formatting of values", () => {
  const data = { s: 'str', i: 42, f: 1.5, big: 1e6 + 0.5, t: true, n: null, u: undefined, arr: ['a', 1, null], m: { b: 2, a: { c: 'x' } } };
  assert.equal(run('{{.s}} {{.i}} {{.f}} {{.t}}', data), 'str 42 1.5 true');
  assert.equal(run('{{.n}}|{{.u}}', data), '<no value>|<no value>');
  assert.equal(run('{{.arr}}', data), '[a 1 <nil>]');
  assert.equal(run('{{.m}}', data), 'map[a:map[c:x] b:2]');
  assert.equal(run('{{.big}}', data), '1.0000005e+06');
  assert.equal(run('{{1.5}} {{0x1F}} {{-3}} {{1_000}} {{\'a\'}} {{true}}'), '1.5 31 -3 1000 97 true');
  assert.equal(run('{{"a\\tb\\u00e9"}}|{{`raw\\n`}}'), 'a\tbé|raw\\n');
  assert.equal(run('{{printf "%v %v %v" 0.1 1e-7 "s"}}'), '0.1 1e-07 s');
});

test('if / else if / else, range, break and variables', () => {
  assert.equal(run('{{if .X}}yes{{else}}no{{end}}', { X: true }), 'yes');
  assert.equal(run('{{if .X}}yes{{else}}no{{end}}', { X: '' }), 'no');
  assert.equal(run('{{if .X}}yes{{end}}', { X: [] }), '');
  const tpl = '{{if eq .N "a"}}A{{else if eq .N "b"}}B{{else}}C{{end}}';
  assert.deepEqual(['a', 'b', 'c'].map((N) => run(tpl, { N })), ['A', 'B', 'C']);
  assert.equal(run('{{range .L}}[{{.}}]{{end}}', { L: ['x', 'y'] }), '[x][y]');
  assert.equal(run('{{range .L}}[{{.}}]{{else}}none{{end}}', { L: [] }), 'none');
  assert.equal(run('{{range .L}}x{{else}}none{{end}}', { L: null }), 'none');
  assert.equal(run('{{range $k, $v := .M}}{{$k}}={{$v}} {{end}}', { M: { b: 2, a: 1 } }), 'a=1 b=2 ');
  assert.equal(run('{{range .L}}{{if eq . "-p"}}{{break}}{{end}}{{.}} {{end}}', { L: ['a', 'b', '-p', 'c'] }), 'a b ');
  assert.equal(run('{{range .L}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}', { L: [1, 2, 3] }), '13');
  assert.equal(run('{{range .L}}{{$.Top}}{{.}}{{end}}', { Top: 'T', L: [1, 2] }), 'T1T2');
  assert.equal(run('{{$x := 1}}{{range .L}}{{$x = .}}{{end}}{{$x}}', { L: [1, 2, 3] }), '3');
  assert.equal(run('{{and "" "x"}}|{{or "" "x"}}|{{not ""}}|{{and 1 2}}'), '|x|true|2');
  assert.equal(run('{{if and (gt .N 1) (le .N 3)}}in{{end}}', { N: 2 }), 'in');
});

test('whitespace trimming and comments (real docker output)', () => {
  // `docker ps --format '  {{- .Names -}}  |'` → "web|"
  assert.equal(run('  {{- .Names -}}  |', psRow), 'web|');
  // `docker ps --format 'a  {{- /* c */ -}}  b'` → "ab"
  assert.equal(run('a  {{- /* c */ -}}  b'), 'ab');
  // `docker ps --format '{{"}}"}} {{ .Names }} {{-3}}'` → "}} web -3"
  assert.equal(run('{{"}}"}} {{ .Names }} {{-3}}', psRow), '}} web -3');
  assert.equal(run('a\n\t{{- "b" }}\n'), 'ab\n');
});

test('execution errors use Go wording (real docker messages)', () => {
  const err = (src: string, data: unknown) => {
    try {
      run(src, data);
    } catch (e) {
      assert.ok(e instanceof TemplateExecError);
      return e.message;
    }
    assert.fail(`no error for ${src}`);
  };
  // docker: template: :1:8: executing "" at <.Names.Foo>: can't evaluate field Foo in type string
  assert.equal(err('{{.Names.Foo}}', psRow), 'template: :1:8: executing "" at <.Names.Foo>: can\'t evaluate field Foo in type string');
  assert.match(err('{{.Foo}}', psRow), /^template: :1:2: executing "" at <\.Foo>: can't evaluate field Foo in type /);
  assert.match(err('x\n  {{.Foo}}', psRow), /^template: :2:4: executing "" at <\.Foo>: /);
  assert.equal(err('{{join .Names}}', psRow), 'template: :1:2: executing "" at <join>: wrong number of args for join: want 2 got 1');
  assert.equal(err('{{upper 3}}', psRow), 'template: :1:8: executing "" at <3>: expected string; found 3');
  assert.equal(err('{{1 2}}', {}), 'template: :1:2: executing "" at <1>: can\'t give argument to non-function 1');
  assert.equal(err('{{nil}}', {}), 'template: :1:2: executing "" at <nil>: nil is not a command');
  assert.equal(err('{{range .Names}}{{end}}', psRow), 'template: :1:8: executing "" at <.Names>: range can\'t iterate over web');
  assert.equal(err('{{lt .Names 1}}', psRow), 'template: :1:2: executing "" at <lt .Names 1>: error calling lt: incompatible types for comparison');
  assert.equal(err('{{index .L 5}}', { L: [1] }), 'template: :1:2: executing "" at <index .L 5>: error calling index: index out of range: 5');
  assert.match(err('{{.State.Health.Status}}', inspect), /nil pointer evaluating interface \{\}\.Status$/);
  assert.match(err('{{upper .Pid}}', { Pid: 1 }), /at <\.Pid>: wrong type for value; expected string; got int$/);
});

test('malformed templates throw "template parsing error: …" (real docker wording)', () => {
  const cases: [string, string][] = [
    ['{{.Names', 'template: :1: unclosed action'],
    ['{{end}}', 'template: :1: unexpected {{end}}'],
    ['{{else}}', 'template: :1: unexpected {{else}}'],
    ['{{foo .Names}}', 'template: :1: function "foo" not defined'],
    ['{{if .X}}', 'template: :1: unexpected EOF'],
    ['{{if}}', 'template: :1: missing value for if'],
    ['{{}}', 'template: :1: missing value for command'],
    ['{{$x}}', 'template: :1: undefined variable "$x"'],
    ['{{with $x := 1}}{{end}}{{$x}}', 'template: :1: undefined variable "$x"'],
    ['{{if 1}}A{{else}}B{{else}}C{{end}}', 'template: :1: expected end; found {{else}}'],
    ['{{"a" | "b"}}', 'template: :1: non executable command in pipeline stage 2'],
    ['{{ /* x */ }}', 'template: :1: unexpected "/" in command'],
    ['{{"\\q"}}', 'template: :1: invalid syntax'],
    ['a\n{{"x}}', 'template: :2: unterminated quoted string'],
    ['{{break}}', 'template: :1: {{break}} outside {{range}}'],
  ];
  for (const [src, msg] of cases) {
    assert.throws(() => compileTemplate(src), (e: unknown) => e instanceof TemplateParseError && e.message === `template parsing error: ${msg}`, src);
  }
});

test('parseFormat and unescapeFormat follow docker formatter.preFormat', () => {
  assert.deepEqual(parseFormat('table {{.ID}}\t{{.Names}}'), { table: true, template: '{{.ID}}\t{{.Names}}' });
  assert.deepEqual(parseFormat('table'), { table: true, template: '' });
  assert.deepEqual(parseFormat('  {{.ID}} '), { table: false, template: '{{.ID}}' });
  assert.equal(unescapeFormat('a\\tb\\nc'), 'a\tb\nc');
  assert.equal(unescapeFormat('{{"\\u00e9"}}'), '{{"\\u00e9"}}');
});

test('table format renders like real docker ps', () => {
  // `docker ps --format 'table {{.Names}}\t{{.Size}}'`, typed in a shell with a literal backslash-t.
  const { table, template } = parseFormat(unescapeFormat('table {{.Names}}\\t{{.Size}}'));
  assert.equal(table, true);
  const header = compileTemplate(template, { header: true })({ Names: 'NAMES', Size: 'SIZE' });
  const row = compileTemplate(template)(psRow);
  assert.equal(tabwriteText(`${header}\n${row}\n`), 'NAMES     SIZE\nweb       0B (virtual 1.98MB)\n');
});

test('header mode leaves headers alone like docker HeaderFunctions', () => {
  const header = compileTemplate('{{upper .Names}}\t{{json .Size}}\t{{truncate .ID 3}}\t{{pad .ID 1 1}}', { header: true });
  assert.equal(header({ Names: 'NAMES', Size: 'SIZE', ID: 'CONTAINER ID' }), 'NAMES\tSIZE\tCONTAINER ID\t CONTAINER ID ');
});
