import type { EntityType, Prisma, PrismaClient } from '../src/infra/database/generated/client';

interface Node {
  type: EntityType;
  name: string;
  description: string;
  alias: string;
  identity?: Prisma.InputJsonValue;
  planning?: Prisma.InputJsonValue;
  capabilities?: Prisma.InputJsonValue;
  governance?: Prisma.InputJsonValue;
  ioContract?: Prisma.InputJsonValue;
  children?: Node[];
}

const MODEL = { name: 'claude-sonnet-5-5', maxTokens: 1024 };

/**
 * The demo "Candidate screening" process: two agents, their skills and actions (an
 * LLM action, an HTTP action against the platform itself, a builtin, a retrieval),
 * and a before_tool approval on the scoring tool.
 */
export const CANDIDATE_SCREENING: Node = {
  type: 'PROCESS',
  name: 'Candidate screening',
  description: 'Reviews a resume, scores the candidate with a human check, then schedules an interview.',
  alias: 'candidate_screening',
  planning: { strategy: 'sequential' },
  ioContract: {
    input: {
      type: 'object',
      required: ['candidateName', 'resume'],
      properties: { candidateName: { type: 'string' }, resume: { type: 'string' }, role: { type: 'string' } },
    },
  },
  children: [
    {
      type: 'AGENT',
      name: 'Resume reviewer',
      description: 'Reads the resume and scores the candidate for the role.',
      alias: 'resume_reviewer',
      identity: {
        role: 'Recruiter',
        instructions:
          'You review resumes for the role {{input.role}}. Use your tools, then give a short verdict.',
      },
      planning: { strategy: 'react', maxIterations: 6 },
      capabilities: { model: MODEL, tools: ['score_candidate'], knowledge: { topK: 5 } },
      governance: {
        budget: { maxCostUsd: '0.50' },
        approvals: [
          { trigger: 'before_tool', match: 'score_candidate', timeoutMs: 86_400_000, onTimeout: 'reject' },
        ],
      },
      children: [
        {
          type: 'SKILL',
          name: 'Score candidate',
          description: 'Extracts the skills and compares them with similar profiles.',
          alias: 'score_candidate',
          planning: {
            strategy: 'sequential',
            steps: [
              { alias: 'extract_skills', input: { resume: '{{input.resume}}' } },
              { alias: 'similar_profiles', input: { skills: '{{steps.extract_skills.output}}' } },
            ],
            output: '{{steps.similar_profiles.output}}',
          },
          ioContract: { input: { type: 'object', properties: { resume: { type: 'string' } } } },
          children: [
            {
              type: 'ACTION',
              name: 'Extract skills',
              description: 'LLM: the skills named in a resume.',
              alias: 'extract_skills',
              capabilities: {
                model: MODEL,
                action: {
                  kind: 'llm',
                  prompt: 'List the professional skills in this resume, one per line:\n{{input.resume}}',
                },
              },
            },
            {
              type: 'ACTION',
              name: 'Similar profiles',
              description: 'Retrieval: profiles in the knowledge base with similar skills.',
              alias: 'similar_profiles',
              capabilities: { action: { kind: 'retrieval', query: '{{input.skills}}', topK: 5 } },
            },
          ],
        },
      ],
    },
    {
      type: 'AGENT',
      name: 'Interview scheduler',
      description: 'Proposes an interview slot and tells the applicant tracking system.',
      alias: 'interview_scheduler',
      identity: { role: 'Coordinator', instructions: 'Schedule an interview for {{input.candidateName}}.' },
      planning: { strategy: 'react', maxIterations: 4 },
      capabilities: { model: MODEL, tools: ['schedule_interview'] },
      children: [
        {
          type: 'SKILL',
          name: 'Schedule interview',
          description: 'Takes the time and notifies the tracking system.',
          alias: 'schedule_interview',
          planning: {
            strategy: 'sequential',
            steps: [
              { alias: 'current_time', input: {} },
              { alias: 'notify_ats', input: { at: '{{steps.current_time.output}}' } },
            ],
          },
          children: [
            {
              type: 'ACTION',
              name: 'Current time',
              description: 'Builtin: the current time.',
              alias: 'current_time',
              capabilities: { action: { kind: 'builtin', name: 'time.now', args: {} } },
            },
            {
              type: 'ACTION',
              name: 'Notify ATS',
              description:
                'HTTP: tells the (demo) applicant tracking system, here the platform’s own health route.',
              alias: 'notify_ats',
              capabilities: {
                action: { kind: 'http', method: 'GET', url: 'http://127.0.0.1:3000/health/live' },
              },
              governance: { allowedHosts: ['127.0.0.1'] },
            },
          ],
        },
      ],
    },
  ],
};

/** Writes the demo tree for a company once (idempotent: an existing root is kept). */
export async function seedDemoEntities(prisma: PrismaClient, companyId: string): Promise<string> {
  const existing = await prisma.hierarchicalEntity.findFirst({
    where: { companyId, name: CANDIDATE_SCREENING.name, parentId: null },
  });
  if (existing) return existing.id;
  const write = async (node: Node, parentId: string | null): Promise<string> => {
    const row = await prisma.hierarchicalEntity.create({
      data: {
        companyId,
        parentId,
        type: node.type,
        name: node.name,
        description: node.description,
        status: 'ACTIVE',
        tags: ['demo'],
        hierarchy: { alias: node.alias },
        identity: node.identity ?? {},
        planning: node.planning ?? {},
        capabilities: node.capabilities ?? {},
        governance: node.governance ?? {},
        ioContract: node.ioContract ?? {},
      },
    });
    for (const child of node.children ?? []) await write(child, row.id);
    return row.id;
  };
  return write(CANDIDATE_SCREENING, null);
}
