/**
 * Parser for the subset of Go's text/template that docker's --format uses.
 * Structured like Go's text/template/parse (lex → recursive descent) so error wording and
 * positions can follow Go's: `template: :1: unexpected {{end}}`.
 */
import { lex, tokStr, type TokType } from './go-template-lex.js';

/** A malformed template; the message starts like `docker inspect`'s "template parsing error: …". */
export class TemplateParseError extends Error {
  constructor(msg: string) {
    super(`template parsing error: ${msg}`);
    this.name = 'TemplateParseError';
  }
}

/** An operand of a command. `pos` is the offset of the node in the source, as Go records it. */
export type Arg =
  | { k: 'field'; pos: number; fields: string[] }
  | { k: 'var'; pos: number; name: string; fields: string[] }
  | { k: 'chain'; pos: number; pipe: Pipe; fields: string[] }
  | { k: 'pipe'; pos: number; pipe: Pipe }
  | { k: 'ident'; pos: number; name: string }
  | { k: 'dot'; pos: number }
  | { k: 'nil'; pos: number }
  | { k: 'const'; pos: number; value: string | number | boolean; text: string };

/** One command of a pipeline: a function, field or value and its arguments. */
export interface Command {
  pos: number;
  args: Arg[];
}
/** A pipeline `$x := a | b c`: optional declarations, then commands whose results feed the next. */
export interface Pipe {
  pos: number;
  decl: string[];
  assign: boolean;
  cmds: Command[];
}
/** {{if}}, {{with}} or {{range}} with its body and optional {{else}} body. */
export interface ControlNode {
  k: 'if' | 'with' | 'range';
  pos: number;
  pipe: Pipe;
  list: TemplateNode[];
  elseList?: TemplateNode[];
}
/** A node of the parsed template. */
export type TemplateNode =
  | { k: 'text'; text: string }
  | { k: 'action'; pos: number; pipe: Pipe }
  | ControlNode
  | { k: 'break' | 'continue'; pos: number };

const OPERAND_START = new Set<TokType>(['bool', 'dot', 'field', 'ident', 'num', 'nil', 'str', 'var', 'lparen']);

/** Line of a byte offset, as Go's `template: :LINE:` prefix counts it. */
export function lineOf(src: string, pos: number): number {
  let n = 1;
  for (let i = 0; i < pos && i < src.length; i++) if (src[i] === '\n') n++;
  return n;
}

type Terminator = { k: 'end' | 'else'; pos: number };

/**
 * Parses a template into a tree. `hasFunc` says whether a function name is defined, because
 * Go rejects unknown functions at parse time (`function "foo" not defined`).
 */
export function parseTemplate(src: string, hasFunc: (name: string) => boolean): TemplateNode[] {
  const fail = (pos: number, msg: string): never => {
    throw new TemplateParseError(`template: :${lineOf(src, pos)}: ${msg}`);
  };
  const toks = lex(src, fail);
  let i = 0;
  const vars: string[] = ['$'];
  let rangeDepth = 0;
  const next = () => toks[i++];
  const peek = () => toks[i];
  const nextNonSpace = () => {
    let t = next();
    while (t.t === 'space') t = next();
    return t;
  };
  const peekNonSpace = () => {
    const t = nextNonSpace();
    i--;
    return t;
  };
  const expect = (t: TokType, context: string) => {
    const tok = nextNonSpace();
    if (tok.t !== t) fail(tok.pos, `unexpected ${tokStr(tok)} in ${context}`);
    return tok;
  };

  function itemList(): [TemplateNode[], Terminator] {
    const list: TemplateNode[] = [];
    while (peekNonSpace().t !== 'eof') {
      const n = textOrAction();
      if (n.k === 'end' || n.k === 'else') return [list, n as Terminator];
      list.push(n as TemplateNode);
    }
    return fail(src.length, 'unexpected EOF');
  }

  function textOrAction(): TemplateNode | Terminator {
    const tok = nextNonSpace();
    if (tok.t === 'text') return { k: 'text', text: tok.v };
    if (tok.t === 'ld') return action();
    return fail(tok.pos, `unexpected ${tokStr(tok)} in input`);
  }

  function action(): TemplateNode | Terminator {
    const tok = nextNonSpace();
    if (tok.t === 'kw') {
      switch (tok.v) {
        case 'else':
          // "{{else if …}}" leaves the "if" pending for control() to pick up.
          if (peekNonSpace().t === 'kw' && peekNonSpace().v === 'if') return { k: 'else', pos: tok.pos };
          expect('rd', 'else');
          return { k: 'else', pos: tok.pos };
        case 'end':
          expect('rd', 'end');
          return { k: 'end', pos: tok.pos };
        case 'if':
        case 'range':
        case 'with':
          return control(tok.v, tok.pos);
        case 'break':
        case 'continue':
          if (rangeDepth === 0) fail(tok.pos, `{{${tok.v}}} outside {{range}}`);
          expect('rd', tok.v);
          return { k: tok.v, pos: tok.pos };
        default:
          return fail(tok.pos, `{{${tok.v}}} is not supported`);
      }
    }
    i--;
    return { k: 'action', pos: tok.pos, pipe: pipeline('command', 'rd') };
  }

  function control(context: 'if' | 'range' | 'with', pos: number): TemplateNode {
    const mark = vars.length;
    const pipe = pipeline(context, 'rd');
    if (context === 'range') rangeDepth++;
    const [list, term] = itemList();
    if (context === 'range') rangeDepth--;
    let elseList: TemplateNode[] | undefined;
    if (term.k === 'else') {
      if (context === 'if' && peek().t === 'kw' && peek().v === 'if') {
        // {{if a}}…{{else if b}}…{{end}} is {{if a}}…{{else}}{{if b}}…{{end}}{{end}}: one {{end}}.
        const ifTok = next();
        elseList = [control('if', ifTok.pos)];
      } else {
        const [l, t2] = itemList();
        if (t2.k !== 'end') fail(t2.pos, 'expected end; found {{else}}');
        elseList = l;
      }
    }
    vars.length = mark;
    return { k: context, pos, pipe, list, elseList };
  }

  function pipeline(context: string, end: 'rd' | 'rparen'): Pipe {
    const pipe: Pipe = { pos: peekNonSpace().pos, decl: [], assign: false, cmds: [] };
    // Declarations: "$x :=", "$x =", and in range "$i, $e :=".
    for (;;) {
      const v = peekNonSpace();
      if (v.t !== 'var') break;
      const save = i;
      nextNonSpace();
      const after = nextNonSpace();
      if (after.t === 'declare' || after.t === 'assign') {
        pipe.assign = after.t === 'assign';
        if (pipe.assign && !vars.includes(v.v)) fail(v.pos, `undefined variable "${v.v}"`);
        pipe.decl.push(v.v);
        vars.push(v.v);
        break;
      }
      if (after.t === 'comma' && context === 'range' && pipe.decl.length === 0) {
        pipe.decl.push(v.v);
        vars.push(v.v);
        if (peekNonSpace().t !== 'var') fail(v.pos, 'range can only initialize variables');
        continue;
      }
      if (after.t === 'comma') fail(v.pos, `too many declarations in ${context}`);
      if (pipe.decl.length > 0) fail(v.pos, `missing := after ${pipe.decl[0]}, ${v.v}`);
      i = save;
      break;
    }
    for (;;) {
      const tok = nextNonSpace();
      if (tok.t === end) break;
      if (!OPERAND_START.has(tok.t)) fail(tok.pos, `unexpected ${tokStr(tok)} in ${context}`);
      i--;
      pipe.cmds.push(command());
    }
    if (pipe.cmds.length === 0) fail(pipe.pos, `missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, n) => {
      if (['dot', 'nil', 'const'].includes(c.args[0].k)) {
        fail(c.pos, `non executable command in pipeline stage ${n + 2}`);
      }
    });
    return pipe;
  }

  function command(): Command {
    const cmd: Command = { pos: peekNonSpace().pos, args: [] };
    for (;;) {
      peekNonSpace();
      const op = operand();
      if (op) cmd.args.push(op);
      const tok = next();
      if (tok.t === 'space') continue;
      if (tok.t === 'rd' || tok.t === 'rparen') i--;
      else if (tok.t !== 'pipe') fail(tok.pos, `unexpected ${tokStr(tok)} in operand`);
      break;
    }
    if (cmd.args.length === 0) fail(cmd.pos, 'empty command');
    return cmd;
  }

  function operand(): Arg | undefined {
    const node = term();
    if (!node || peek().t !== 'field') return node;
    // Go positions a chained field at its second element: {{.Config.Foo}} is reported at 1:9.
    const pos = peek().pos;
    const fields: string[] = [];
    while (peek().t === 'field') fields.push(next().v.slice(1));
    if (node.k === 'field' || node.k === 'var') return { ...node, pos, fields: [...node.fields, ...fields] };
    if (node.k === 'pipe') return { k: 'chain', pos, pipe: node.pipe, fields };
    return fail(pos, `unexpected . after term "${argString(node)}"`);
  }

  function term(): Arg | undefined {
    const tok = nextNonSpace();
    switch (tok.t) {
      case 'ident':
        if (!hasFunc(tok.v)) fail(tok.pos, `function "${tok.v}" not defined`);
        return { k: 'ident', pos: tok.pos, name: tok.v };
      case 'dot':
        return { k: 'dot', pos: tok.pos };
      case 'nil':
        return { k: 'nil', pos: tok.pos };
      case 'var':
        if (!vars.includes(tok.v)) fail(tok.pos, `undefined variable "${tok.v}"`);
        return { k: 'var', pos: tok.pos, name: tok.v, fields: [] };
      case 'field':
        return { k: 'field', pos: tok.pos, fields: [tok.v.slice(1)] };
      case 'bool':
        return { k: 'const', pos: tok.pos, value: tok.v === 'true', text: tok.v };
      case 'num':
      case 'str':
        return { k: 'const', pos: tok.pos, value: tok.value ?? '', text: tok.v };
      case 'lparen':
        return { k: 'pipe', pos: tok.pos, pipe: pipeline('parenthesized pipeline', 'rparen') };
      default:
        i--;
        return undefined;
    }
  }

  const root: TemplateNode[] = [];
  while (peek().t !== 'eof') {
    const n = textOrAction();
    if (n.k === 'end' || n.k === 'else') fail(n.pos, `unexpected {{${n.k}}}`);
    root.push(n as TemplateNode);
  }
  return root;
}

/** Go's Node.String() for an operand, shown in exec errors as `at <…>`. */
export function argString(a: Arg): string {
  switch (a.k) {
    case 'field':
      return `.${a.fields.join('.')}`;
    case 'var':
      return [a.name, ...a.fields].join('.');
    case 'chain':
      return `(${pipeString(a.pipe)}).${a.fields.join('.')}`;
    case 'pipe':
      return `(${pipeString(a.pipe)})`;
    case 'ident':
      return a.name;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'const':
      return a.text;
  }
}

/** Go's PipeNode.String(). */
export function pipeString(p: Pipe): string {
  const decl = p.decl.length ? `${p.decl.join(', ')} ${p.assign ? '=' : ':='} ` : '';
  return decl + p.cmds.map((c) => c.args.map(argString).join(' ')).join(' | ');
}
