import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import type { JobPayloads } from '../infra/queue/jobs';
import { QueueName } from '../infra/queue/queue-names';
import { RunExecutor } from './engine/run-executor';

/** Consumes the execution queue: parse the payload, hand the run to the executor. */
@Processor(QueueName.Execution)
export class ExecutionProcessor extends WorkerHost {
  constructor(private readonly executor: RunExecutor) {
    super();
  }

  async process(job: Job<JobPayloads['run.execute']>): Promise<void> {
    await this.executor.execute(job.data.runId, job.data.companyId);
  }
}
