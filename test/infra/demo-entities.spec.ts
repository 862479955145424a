import { validateEntityConfig } from '../../src/entities/config/validate-config';
import { ENTITY_RANK } from '../../src/entities/entity-rules';
import { CANDIDATE_SCREENING } from '../../prisma/demo-entities';

type Node = typeof CANDIDATE_SCREENING;

function* walk(node: Node, parent?: Node): Generator<[Node, Node | undefined]> {
  yield [node, parent];
  for (const child of node.children ?? []) yield* walk(child, node);
}

describe('the demo "Candidate screening" tree the seed writes', () => {
  it('passes the same validation as the API would apply to each entity', () => {
    for (const [node] of walk(CANDIDATE_SCREENING)) {
      const errors = validateEntityConfig(
        {
          identity: node.identity,
          hierarchy: { alias: node.alias },
          planning: node.planning,
          capabilities: node.capabilities,
          governance: node.governance,
          ioContract: node.ioContract,
        },
        { type: node.type, childAliases: (node.children ?? []).map((c) => c.alias) },
      );
      expect({ entity: node.name, errors }).toEqual({ entity: node.name, errors: [] });
    }
  });

  it('respects the hierarchy ranks and covers every action kind and a before_tool approval', () => {
    const kinds = new Set<string>();
    let approvals = 0;
    for (const [node, parent] of walk(CANDIDATE_SCREENING)) {
      if (parent) expect(ENTITY_RANK[node.type]).toBeLessThan(ENTITY_RANK[parent.type]);
      const action = (node.capabilities as { action?: { kind: string } } | undefined)?.action;
      if (action) kinds.add(action.kind);
      const gates = (node.governance as { approvals?: { trigger: string }[] } | undefined)?.approvals ?? [];
      approvals += gates.filter((a) => a.trigger === 'before_tool').length;
    }
    expect([...kinds].sort()).toEqual(['builtin', 'http', 'llm', 'retrieval']);
    expect(approvals).toBe(1);
  });
});
