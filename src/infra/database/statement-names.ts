import { createHash } from 'node:crypto';

/**
 * Names for the statements Prisma sends, so each pooled connection prepares a
 * statement once and Postgres keeps its parse and, after a few runs, its plan: the
 * batched statements of the run lifecycle and the row-level-security reads spend
 * more time being planned than executed otherwise.
 *
 * Bounded: the first `max` distinct texts are named, any after them run unnamed as
 * before, so texts that differ by their number of parameters (`IN` lists) cannot
 * grow each connection's prepared statements without end.
 */
export function statementNames(max = 256): (query: { sql: string }) => string {
  const names = new Map<string, string>();
  return ({ sql }) => {
    let name = names.get(sql);
    if (name === undefined && names.size < max) {
      name = `hb_${createHash('sha1').update(sql).digest('base64url').slice(0, 24)}`;
      names.set(sql, name);
    }
    // pg runs a query without a name as an unnamed statement (parsed each time).
    return name as string;
  };
}
