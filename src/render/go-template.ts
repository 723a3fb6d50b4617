/**
 * The subset of Go's text/template that the docker CLI's --format uses, executed over plain JS
 * data. Objects stand in for Go structs/maps (a missing key is an error, as for a struct
 * field), arrays for slices. Parsing lives in go-template-parse.ts, functions and value
 * printing in go-template-funcs.ts.
 */
import { argString, lineOf, parseTemplate, pipeString, type Arg, type Command, type ControlNode, type Pipe, type TemplateNode } from './go-template-parse.js';
import { FUNCS, FuncArgError, HEADER_FUNCS, callFunc, formatValue, goJson, goTypeName, isTrue, type FuncDef } from './go-template-funcs.js';
import { GoMap, GoPtr, GoValue, printValue } from './go-value.js';

export { TemplateParseError } from './go-template-parse.js';

/** A template that failed while executing; the message is Go's: `template: :1:2: executing "" at <.Foo>: …`. */
export class TemplateExecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateExecError';
  }
}

/** Options of {@link compileTemplate}. */
export interface CompileOptions {
  /**
   * Render a table header: docker swaps in HeaderFunctions so json/split/join/title/lower/
   * upper/truncate return their argument unchanged and headers stay "NAMES", not "names".
   */
  header?: boolean;
  /**
   * The data is a docker row context (ps, images, networks… rows). Default true. docker's row
   * contexts marshal themselves through json.Marshal, so `{{json .}}` of the row sorts keys and
   * escapes <, >, & (`"Digest":"\u003cnone\u003e"`), while `{{json .Field}}` does not. Set false
   * for `docker inspect`-style data, where `{{json .}}` keeps key order and does not escape.
   */
  rowContext?: boolean;
  /**
   * Go's `missingkey=error`, which docker sets when it falls back to running an inspect
   * template over the raw JSON: a missing map key is an error ("map has no entry for key").
   */
  missingKeyError?: boolean;
}

// Marks "no piped-in value", which differs from a piped-in undefined.
const NO_FINAL: unique symbol = Symbol('noFinal');
type Final = unknown;
const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');

/**
 * Compiles a Go template. Throws TemplateParseError ("template parsing error: template: :1:
 * unclosed action") for a malformed template; the returned function throws TemplateExecError.
 */
export function compileTemplate(src: string, opts: CompileOptions = {}): (data: unknown) => string {
  const funcs: Record<string, FuncDef> = opts.header ? { ...FUNCS, ...HEADER_FUNCS } : { ...FUNCS };
  const tree = parseTemplate(src, (name) => Object.hasOwn(funcs, name));
  const missingKeyError = opts.missingKeyError ?? false;
  if (opts.header || opts.rowContext === false) return (data) => execute(src, tree, funcs, data, missingKeyError);
  return (data) => {
    const json: FuncDef = { params: ['any'], fn: (v: unknown) => goJson(v, v === data && data !== null && typeof data === 'object') };
    return execute(src, tree, { ...funcs, json }, data, missingKeyError);
  };
}

/**
 * Splits docker's `table` prefix off a --format value, as formatter.Format.IsTable and
 * Context.preFormat do: any format starting with "table" is a table, and the rest is trimmed
 * of spaces. "table" alone leaves an empty template (the caller's default table applies).
 */
export function parseFormat(format: string): { table: boolean; template: string } {
  const table = format.startsWith('table');
  const rest = table ? format.slice('table'.length) : format;
  return { table, template: rest.replace(/^ +| +$/g, '') };
}

/**
 * Turns the two-character sequences `\t` and `\n` into a tab and a newline. docker's
 * preFormat does this too, which is how `--format 'table {{.ID}}\t{{.Names}}'` works in a
 * shell — and chat users cannot type a real tab at all.
 */
export function unescapeFormat(s: string): string {
  return s.replace(/\\t|\\n/g, (m) => (m === '\\t' ? '\t' : '\n'));
}

function hasField(obj: object, name: string): boolean {
  // Own keys and class members, but not Object.prototype's (toString, constructor…).
  for (let o: object | null = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    if (Object.hasOwn(o, name)) return true;
  }
  return false;
}

function execute(src: string, tree: TemplateNode[], funcs: Record<string, FuncDef>, data: unknown, missingKeyError: boolean): string {
  let out = '';
  const vars: { name: string; value: unknown }[] = [{ name: '$', value: data }];
  let atPos = -1;
  let atStr = '';

  const at = (pos: number, str: string) => {
    atPos = pos;
    atStr = str;
  };
  const atArg = (a: Arg) => at(a.pos, argString(a));
  const errorf = (msg: string): never => {
    if (atPos < 0) throw new TemplateExecError(`template: : ${msg}`);
    const lineStart = src.lastIndexOf('\n', atPos - 1) + 1;
    const col = Buffer.byteLength(src.slice(lineStart, atPos));
    // Go prints the whole node (docker 20.10's go1.19 and 28.2's go1.24 alike: no "..." cut).
    throw new TemplateExecError(`template: :${lineOf(src, atPos)}:${col}: executing "" at <${atStr}>: ${msg}`);
  };

  function walk(dot: unknown, list: TemplateNode[]): void {
    for (const node of list) {
      switch (node.k) {
        case 'text':
          out += node.text;
          break;
        case 'action': {
          const v = evalPipeline(dot, node.pipe);
          if (node.pipe.decl.length === 0) {
            if (typeof v === 'function') {
              at(node.pos, pipeString(node.pipe));
              errorf(`can't print ${pipeString(node.pipe)} of type func()`);
            }
            out += printValue(v);
          }
          break;
        }
        case 'if':
        case 'with': {
          const mark = vars.length;
          const v = evalPipeline(dot, node.pipe);
          if (isTrue(v)) walk(node.k === 'with' ? v : dot, node.list);
          else if (node.elseList) walk(dot, node.elseList);
          vars.length = mark;
          break;
        }
        case 'range':
          walkRange(dot, node);
          break;
        case 'break':
          throw BREAK;
        case 'continue':
          throw CONTINUE;
      }
    }
  }

  function walkRange(dot: unknown, node: ControlNode): void {
    const mark = vars.length;
    let v = evalPipeline(dot, node.pipe);
    while (v instanceof GoPtr && v.elem !== null) v = v.elem;
    const inner = vars.length;
    let items: [unknown, unknown][];
    if (v === undefined || v === null) items = [];
    else if (Array.isArray(v)) items = v.map((e, i) => [i, e]);
    else if (v instanceof Map) items = [...v.entries()].sort(([a], [b]) => (String(a) < String(b) ? -1 : 1));
    else if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      // Go ranges over a map in sorted key order.
      items = Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]);
    } else {
      // Go reports this at the last node the pipeline evaluated, e.g. <.Names>.
      return errorf(`range can't iterate over ${formatValue(v)}`);
    }
    try {
      for (const [key, elem] of items) {
        // Like Go's setTopVar: the last declared variable gets the element, the first the key.
        const n = node.pipe.decl.length;
        if (n > 0) vars[inner - 1].value = elem;
        if (n > 1) vars[inner - 2].value = key;
        try {
          walk(elem, node.list);
        } catch (e) {
          if (e !== CONTINUE) throw e;
        }
        vars.length = inner;
      }
    } catch (e) {
      if (e !== BREAK) throw e;
    }
    vars.length = mark;
    if (items.length === 0 && node.elseList) walk(dot, node.elseList);
  }

  function evalPipeline(dot: unknown, pipe: Pipe): unknown {
    let value: unknown = NO_FINAL;
    for (const cmd of pipe.cmds) value = evalCommand(dot, cmd, value);
    for (const name of pipe.decl) {
      if (pipe.assign) {
        const v = [...vars].reverse().find((x) => x.name === name);
        if (v) v.value = value;
      } else vars.push({ name, value });
    }
    return value;
  }

  function notAFunction(args: Arg[], final: Final): void {
    if (args.length > 1 || final !== NO_FINAL) errorf(`can't give argument to non-function ${argString(args[0])}`);
  }

  function evalCommand(dot: unknown, cmd: Command, final: Final): unknown {
    const first = cmd.args[0];
    switch (first.k) {
      case 'field':
        atArg(first);
        return evalFieldChain(dot, dot, first, first.fields, cmd.args, final);
      case 'var': {
        atArg(first);
        const value = lookupVar(first.name);
        if (first.fields.length === 0) {
          notAFunction(cmd.args, final);
          return value;
        }
        return evalFieldChain(dot, value, first, first.fields, cmd.args, final);
      }
      case 'chain': {
        atArg(first);
        const base = evalPipeline(dot, first.pipe);
        return evalFieldChain(dot, base, first, first.fields, cmd.args, final);
      }
      case 'ident':
        return evalFunction(dot, first, cmd.args, final);
      case 'pipe':
        atArg(first);
        notAFunction(cmd.args, final);
        return evalPipeline(dot, first.pipe);
    }
    atArg(first);
    notAFunction(cmd.args, final);
    if (first.k === 'nil') return errorf('nil is not a command');
    return first.k === 'dot' ? dot : first.value;
  }

  function lookupVar(name: string): unknown {
    for (let i = vars.length - 1; i >= 0; i--) if (vars[i].name === name) return vars[i].value;
    return errorf(`undefined variable: ${name}`);
  }

  function evalArg(dot: unknown, arg: Arg): unknown {
    atArg(arg);
    switch (arg.k) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'const':
        return arg.value;
      case 'ident':
        return evalFunction(dot, arg, [arg], NO_FINAL);
      case 'pipe':
        return evalPipeline(dot, arg.pipe);
      default:
        return evalCommand(dot, { pos: arg.pos, args: [arg] }, NO_FINAL);
    }
  }

  function evalFunction(dot: unknown, node: Extract<Arg, { k: 'ident' }>, args: Arg[], final: Final): unknown {
    const argv = args.slice(1).map((a) => evalArg(dot, a));
    if (final !== NO_FINAL) argv.push(final);
    atArg(node);
    try {
      return callFunc(node.name, funcs[node.name], argv);
    } catch (err) {
      if (err instanceof FuncArgError) {
        const bad = args[err.index + 1];
        if (!bad) return errorf(err.message);
        atArg(bad);
        // Go checks a constant against the parameter type at evaluation: "expected string; found 3".
        return errorf(bad.k === 'const' ? `expected ${err.want}; found ${argString(bad)}` : err.message);
      }
      // "error calling …" is reported at the whole command, like Go's evalCall: <index .Names 1>.
      if ((err as Error).message.startsWith('error calling')) at(args[0].pos, args.map(argString).join(' '));
      return errorf((err as Error).message);
    }
  }

  function evalFieldChain(dot: unknown, receiver: unknown, node: Arg, fields: string[], args: Arg[], final: Final): unknown {
    let v = receiver;
    for (let i = 0; i < fields.length - 1; i++) v = evalField(dot, fields[i], node, [], NO_FINAL, v);
    return evalField(dot, fields[fields.length - 1], node, args, final, v);
  }

  // Like Go's evalField this does not move the error position: callers already set it.
  function callMethod(dot: unknown, name: string, node: Arg, args: Arg[], final: Final, receiver: unknown, fn: (...a: unknown[]) => unknown): unknown {
    const argv = args.slice(1).map((a) => evalArg(dot, a));
    if (final !== NO_FINAL) argv.push(final);
    try {
      return fn.apply(receiver, argv);
    } catch (err) {
      atArg(node);
      return errorf(`error calling ${name}: ${(err as Error).message}`);
    }
  }

  // Like Go's evalField this does not move the error position: callers already set it.
  function evalField(dot: unknown, name: string, node: Arg, args: Arg[], final: Final, receiver: unknown): unknown {
    const hasArgs = args.length > 1 || final !== NO_FINAL;
    // An invalid value (a missing map entry) has no fields: Go gives the invalid value again.
    if (receiver === undefined) return missingKeyError ? errorf(`nil data; no entry for key "${name}"`) : undefined;
    if (receiver === null) return errorf(`nil pointer evaluating interface {}.${name}`);
    if (receiver instanceof GoValue) {
      const r = receiver.lookup(name);
      if (!r.found) return errorf(r.error ?? `can't evaluate field ${name} in type ${goTypeName(receiver)}`);
      if ('method' in r) return callMethod(dot, name, node, args, final, receiver, r.method);
      if (hasArgs) return errorf(`${name} has arguments but cannot be invoked as function`);
      return r.value;
    }
    if (receiver instanceof GoMap) {
      // A Go map with string keys: a missing key is the invalid value, printed "<no value>".
      if (hasArgs) return errorf(`${name} is not a method but has arguments`);
      return receiver.get(name);
    }
    let found = false;
    let value: unknown;
    if (receiver instanceof Map) {
      found = receiver.has(name);
      value = receiver.get(name);
    } else if (typeof receiver === 'object' && !Array.isArray(receiver) && hasField(receiver, name)) {
      found = true;
      value = (receiver as Record<string, unknown>)[name];
    }
    if (!found) {
      const plain = typeof receiver === 'object' && Object.getPrototypeOf(receiver) === Object.prototype;
      if (missingKeyError && plain) return errorf(`map has no entry for key "${name}"`);
      return errorf(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
    }
    // A function-valued member is a Go method: call it with the command's arguments.
    if (typeof value === 'function') return callMethod(dot, name, node, args, final, receiver, value as (...a: unknown[]) => unknown);
    if (hasArgs) return errorf(`${name} has arguments but cannot be invoked as function`);
    return value;
  }

  walk(data, tree);
  return out;
}
