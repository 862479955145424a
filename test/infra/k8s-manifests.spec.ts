// deploy/k8s cannot be applied here (no cluster), so this spec reads the manifests and
// checks them against the code: env names exist in the config schema and the required
// ones are set, commands run files the image has, probes hit the health routes,
// shutdown grace fits inside the pod's termination grace, and the autoscalers and
// disruption budgets point at the right workloads.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { envSchema } from '../../src/infra/config/env.schema';
import { QueueName } from '../../src/infra/queue/queue-names';

const ROOT = path.resolve(__dirname, '..', '..');
const DIR = path.join(ROOT, 'deploy/k8s');

interface Manifest {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [key: string]: unknown;
}
interface Container {
  name: string;
  image: string;
  command: string[];
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: { httpGet: { path: string; port: string } };
  livenessProbe?: { httpGet: { path: string; port: string } };
  resources?: { requests?: Record<string, string> };
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  containers: Container[];
}

const manifests: Manifest[] = readdirSync(DIR)
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8')).map((d) => d.toJS() as Manifest),
  );
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const named = (kind: string, name: string) => byKind(kind).find((m) => m.metadata.name === name)!;
const podOf = (m: Manifest) => (m.spec as { template: { spec: PodSpec } }).template.spec;
const config = named('ConfigMap', 'hirebuddha-config').data as Record<string, string>;
const secret = named('Secret', 'hirebuddha-secrets').stringData as Record<string, string>;
const schemaKeys = new Set(Object.keys(envSchema.shape));

describe('Kubernetes manifests', () => {
  it('parses, and names only variables the config schema knows', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(9);
    const names = [
      ...Object.keys(config),
      ...Object.keys(secret),
      ...[...byKind('Deployment'), ...byKind('Job')].flatMap((m) =>
        podOf(m).containers.flatMap((c) => (c.env ?? []).map((e) => e.name)),
      ),
    ];
    expect(names.filter((name) => !schemaKeys.has(name))).toEqual([]);
  });

  it('sets every variable the schema requires, secrets in the Secret', () => {
    const required = Object.entries(envSchema.shape)
      .filter(([, field]) => !field.safeParse(undefined).success)
      .map(([name]) => name);
    expect(required.sort()).toEqual([
      'DATABASE_ADMIN_URL',
      'DATABASE_URL',
      'ENCRYPTION_KEYS',
      'JWT_SECRET',
      'REDIS_URL',
    ]);
    for (const name of required) expect(Object.keys(secret)).toContain(name);
    for (const name of ['JWT_SECRET', 'ENCRYPTION_KEYS', 'ANTHROPIC_API_KEY', 'WEBHOOK_SIGNING_SECRET'])
      expect(Object.keys(config)).not.toContain(name);
  });

  it('runs files the image has, from one image, with both config sources', () => {
    const workloads = [...byKind('Deployment'), ...byKind('Job')];
    const images = new Set(workloads.flatMap((m) => podOf(m).containers.map((c) => c.image)));
    expect(images.size).toBe(1);
    for (const m of workloads)
      for (const container of podOf(m).containers) {
        const [binary, file] = container.command;
        expect(binary).toBe('node');
        const source = file.replace(/^dist\/(.*)\.js$/, 'src/$1.ts');
        expect([file, existsSync(path.join(ROOT, source))]).toEqual([file, true]);
        expect(container.envFrom?.map((e) => e.configMapRef?.name ?? e.secretRef?.name).sort()).toEqual([
          'hirebuddha-config',
          'hirebuddha-secrets',
        ]);
        expect(container.resources?.requests).toMatchObject({
          cpu: expect.any(String),
          memory: expect.any(String),
        });
      }
  });

  it('probes the health routes on the process’s port, and outlasts its shutdown grace', () => {
    const grace = Number(config.SHUTDOWN_GRACE_MS);
    for (const [name, portVar] of [
      ['hirebuddha-api', 'PORT'],
      ['hirebuddha-worker', 'WORKER_HTTP_PORT'],
    ]) {
      const pod = podOf(named('Deployment', name));
      const [container] = pod.containers;
      expect(container.readinessProbe?.httpGet.path).toBe('/health/ready');
      expect(container.livenessProbe?.httpGet.path).toBe('/health/live');
      const port = container.ports!.find((p) => p.name === container.readinessProbe!.httpGet.port)!;
      expect(String(port.containerPort)).toBe(container.env!.find((e) => e.name === portVar)!.value);
      expect(pod.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(grace);
    }
  });

  it('scales the API on CPU and the workers on the execution queue, and keeps pods through disruptions', () => {
    const hpa = named('HorizontalPodAutoscaler', 'hirebuddha-api').spec as {
      scaleTargetRef: { name: string };
    };
    expect(hpa.scaleTargetRef.name).toBe('hirebuddha-api');
    const scaled = named('ScaledObject', 'hirebuddha-worker').spec as {
      scaleTargetRef: { name: string };
      triggers: { type: string; metadata: { listName: string } }[];
    };
    expect(scaled.scaleTargetRef.name).toBe('hirebuddha-worker');
    // BullMQ's wait list of the execution queue, under the platform's `hb` prefix.
    expect(scaled.triggers[0]).toMatchObject({
      type: 'redis',
      metadata: { listName: `hb:${QueueName.Execution}:wait` },
    });
    for (const name of ['hirebuddha-api', 'hirebuddha-worker']) {
      const pdb = named('PodDisruptionBudget', name).spec as {
        selector: { matchLabels: Record<string, string> };
      };
      const labels = (
        named('Deployment', name).spec as { template: { metadata: { labels: Record<string, string> } } }
      ).template.metadata.labels;
      expect(labels).toMatchObject(pdb.selector.matchLabels);
    }
  });
});
