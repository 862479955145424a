import jsonLogic from 'json-logic-js';
import { aliasOf } from '../../entities/entity-rules';
import type { HierarchicalEntity } from '../../infra/database/generated/client';

export interface PlannedStep {
  alias: string;
  entityId: string;
  /** A template mapping rendered against {input, context, steps}; absent: the parent's input. */
  input?: unknown;
}

export interface Plan {
  mode: 'sequential' | 'parallel';
  steps: PlannedStep[];
}

/** Children in their declared order (hierarchy.order), then creation order. */
function ordered(children: HierarchicalEntity[]): HierarchicalEntity[] {
  const orderOf = (e: HierarchicalEntity) => {
    const order = (e.hierarchy as { order?: unknown } | null)?.order;
    return typeof order === 'number' ? order : Number.MAX_SAFE_INTEGER;
  };
  return [...children].sort((a, b) => orderOf(a) - orderOf(b) || a.id.localeCompare(b.id));
}

/**
 * What a SKILL or PROCESS runs: its planning.steps, else its children in order; a
 * PROCESS's routes pick one child (first match wins); strategy parallel runs all at
 * once. Deterministic for a given entity and input, so a resumed run plans the same.
 */
export function planOf(
  entity: HierarchicalEntity,
  children: HierarchicalEntity[],
  facts: { input: unknown; context: unknown },
): Plan {
  const byAlias = new Map(children.map((child) => [aliasOf(child), child]));
  const step = (alias: string, input?: unknown): PlannedStep => {
    const child = byAlias.get(alias);
    if (!child) throw new Error(`no child with alias ${alias}`);
    return { alias, entityId: child.id, input };
  };
  const planning = (entity.planning ?? {}) as {
    strategy?: string;
    steps?: { alias: string; input?: unknown }[];
  };
  const routes = (entity.logicGate as { routes?: { when: unknown; to: string }[] } | null)?.routes;
  if (entity.type === 'PROCESS' && routes?.length) {
    const match = routes.find((route) => jsonLogic.apply(route.when as jsonLogic.RulesLogic, facts));
    return { mode: 'sequential', steps: match ? [step(match.to)] : [] };
  }
  const steps = planning.steps?.length
    ? planning.steps.map((s) => step(s.alias, s.input))
    : ordered(children).map((child) => step(aliasOf(child)));
  return {
    mode: entity.type === 'PROCESS' && planning.strategy === 'parallel' ? 'parallel' : 'sequential',
    steps,
  };
}
