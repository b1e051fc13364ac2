import { celEnv, isCelError, parse, plan, type CelInput } from '@bufbuild/cel';
import { KUBERNETES_LIBRARY } from './kubernetes-library.js';

/**
 * CEL expressions as the API server evaluates them for a CRD's `x-kubernetes-validations` and a
 * ValidatingAdmissionPolicy, run in process with @bufbuild/cel (an implementation of the CEL
 * specification, tested against its conformance suite, @bufbuild/cel-spec) and the part of the
 * Kubernetes CEL library that kubernetes-library.ts provides. An expression this evaluator cannot
 * run (a function it lacks, syntax it does not parse) is reported as such, before any evaluation:
 * never guessed, never passed.
 */

/** The outcome of one evaluation. */
export type CelOutcome =
  | { readonly kind: 'value'; readonly value: unknown }
  /** A runtime error (a missing key, a division by zero): the API server fails the rule on it too. */
  | { readonly kind: 'error'; readonly message: string };

/** An expression ready to evaluate, or the reason this evaluator cannot. */
export type CompiledCel = { readonly kind: 'program'; evaluate(bindings: Readonly<Record<string, CelInput>>): CelOutcome } | { readonly kind: 'unsupported'; readonly reason: string };

/** A parsed expression's tree. */
type Expr = ReturnType<typeof parse>['expr'];

const ENVIRONMENT = celEnv({ funcs: [...KUBERNETES_LIBRARY] });

/**
 * Calls that the planner evaluates itself rather than through a function: logic operators,
 * the conditional, indexing and the helper of the `all`/`exists` macros.
 */
const PLANNED_CALLS = new Set(['_&&_', '_||_', '_?_:_', '_[_]', '@not_strictly_false']);

/** Parses and plans an expression once; evaluating it never parses again. */
export function compileCel(expression: string): CompiledCel {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(expression);
  } catch (error) {
    return { kind: 'unsupported', reason: `this checker cannot parse it (${firstLine(error)})` };
  }
  const missing = [...calledFunctions(parsed.expr)].filter((name) => !PLANNED_CALLS.has(name) && !ENVIRONMENT.funcs.find(name));
  if (missing.length > 0) {
    return { kind: 'unsupported', reason: `this checker lacks the CEL function${missing.length > 1 ? 's' : ''} ${missing.sort().join(', ')}` };
  }
  const program = plan(ENVIRONMENT, parsed);
  return {
    kind: 'program',
    evaluate(bindings) {
      try {
        const result = program(bindings);
        return isCelError(result) ? { kind: 'error', message: result.message } : { kind: 'value', value: result };
      } catch (error) {
        // The evaluator throws on what it does not implement at run time (a type it lacks).
        return { kind: 'error', message: firstLine(error) };
      }
    },
  };
}

/** The names of every function an expression calls, macros already expanded by the parser. */
function calledFunctions(root: Expr): Set<string> {
  const names = new Set<string>();
  const pending: (Expr | undefined)[] = [root];
  while (pending.length > 0) {
    const expr = pending.pop();
    const kind = expr?.exprKind;
    switch (kind?.case) {
      case 'callExpr':
        names.add(kind.value.function);
        pending.push(kind.value.target, ...kind.value.args);
        break;
      case 'selectExpr':
        pending.push(kind.value.operand);
        break;
      case 'listExpr':
        pending.push(...kind.value.elements);
        break;
      case 'structExpr':
        for (const entry of kind.value.entries) pending.push(entry.keyKind.case === 'mapKey' ? entry.keyKind.value : undefined, entry.value);
        break;
      case 'comprehensionExpr':
        pending.push(kind.value.iterRange, kind.value.accuInit, kind.value.loopCondition, kind.value.loopStep, kind.value.result);
        break;
      default:
        break;
    }
  }
  return names;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
