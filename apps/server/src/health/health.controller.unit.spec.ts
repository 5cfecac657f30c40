import { Test } from '@nestjs/testing';
import { TerminusModule } from '@nestjs/terminus';
import { ShardService } from '../clearing/shard.service';
import type { HttpResponse } from '../common/http-types';
import { KafkaService } from '../kafka/kafka.service';
import { HealthController } from './health.controller';

/** The probes' bodies on a shard (and Kafka worker) in each state, through terminus. */
async function controller(shard: Partial<ShardService>, kafka?: Partial<KafkaService>): Promise<HealthController> {
  const module = await Test.createTestingModule({
    imports: [TerminusModule.forRoot({ logger: false })],
    controllers: [HealthController],
    providers: [{ provide: ShardService, useValue: shard }, ...(kafka ? [{ provide: KafkaService, useValue: kafka }] : [])],
  }).compile();
  return module.get(HealthController);
}

const response = (): HttpResponse & { statusCode: number } => ({ statusCode: 0 }) as unknown as HttpResponse & { statusCode: number };

describe('HealthController (terminus)', () => {
  it('/healthz: ok with no indicator, whatever the shard', async () => {
    const health = await controller({ status: 'opening', storeUrl: 'file:x' } as Partial<ShardService>);
    expect(await health.healthz()).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
  });

  it('/readyz ready: 200, the flat fields and the store check up', async () => {
    const health = await controller({ status: 'ready', storeUrl: 'file:x', head: 9, restoredFrom: 0 } as Partial<ShardService>);
    const res = response();
    expect(await health.ready(res)).toEqual({
      status: 'ready',
      store: 'file:x',
      head: 9,
      restoredFrom: 0,
      checks: { status: 'ok', info: { store: { status: 'up', head: 9, restoredFrom: 0 } }, error: {}, details: { store: { status: 'up', head: 9, restoredFrom: 0 } } },
    });
    expect(res.statusCode).toBe(200);
  });

  it('/readyz while the store fails: 503, saying why in both forms', async () => {
    const health = await controller({ status: 'failed', storeUrl: 'file:x', error: new Error('EACCES: permission denied') } as unknown as Partial<ShardService>);
    const res = response();
    const body = await health.ready(res);
    expect(res.statusCode).toBe(503);
    expect(body).toMatchObject({ status: 'failed', store: 'file:x', error: 'EACCES: permission denied' });
    expect(body.checks).toEqual({ status: 'error', info: {}, error: { store: { status: 'down', state: 'failed', message: 'EACCES: permission denied' } }, details: { store: { status: 'down', state: 'failed', message: 'EACCES: permission denied' } } });
  });

  it('/readyz with the store ready but the Kafka worker starting: 503, kafka down', async () => {
    const kafka = { status: 'starting', describe: () => ({ status: 'starting', shard: 0 }) } as unknown as Partial<KafkaService>;
    const health = await controller({ status: 'ready', storeUrl: 'file:x', head: 0, restoredFrom: 0 } as Partial<ShardService>, kafka);
    const res = response();
    const body = await health.ready(res);
    expect(res.statusCode).toBe(503);
    expect(body).toMatchObject({ status: 'kafka-starting', kafka: { status: 'starting', shard: 0 } });
    expect((body.checks as { error: unknown }).error).toEqual({ kafka: { status: 'down', state: 'starting' } });
    expect((body.checks as { info: unknown }).info).toEqual({ store: { status: 'up', head: 0, restoredFrom: 0 } });
  });
});
