import { AssignerProtocol, type Cluster, type Logger } from 'kafkajs';
import { fixedPartitionsAssigner } from './fixed-partitions-assigner';
import { chunkBySize } from './kafkajs-ports';

describe('chunkBySize', () => {
  it('splits messages into runs of at most maxBytes, in order, a large one alone', () => {
    const m = (n: number) => ({ key: 'k', value: 'x'.repeat(n) });
    const chunks = chunkBySize([m(100), m(100), m(100), m(1000), m(10)], 400);
    expect(chunks.map((c) => c.map((x) => x.value.length))).toEqual([[100, 100], [100], [1000], [10]]);
    expect(chunkBySize([], 10)).toEqual([]);
  });
});

describe('fixedPartitionsAssigner', () => {
  const member = (memberId: string, owner: boolean) => {
    const { metadata } = fixedPartitionsAssigner('t', [1], () => owner)({ cluster: {} as Cluster, groupId: 'g', logger: {} as Logger }).protocol({ topics: ['t'] });
    return { memberId, memberMetadata: metadata };
  };
  const assign = async (members: { memberId: string; memberMetadata: Buffer }[]) => {
    const assigner = fixedPartitionsAssigner('t', [1])({ cluster: {} as Cluster, groupId: 'g', logger: {} as Logger });
    const result = await assigner.assign({ members, topics: ['t'] });
    return Object.fromEntries(result.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)!.assignment]));
  };

  it("gives exactly the shard's partition to one member, nothing to the others", async () => {
    expect(await assign([member('b', false), member('a', false)])).toEqual({ a: { t: [1] }, b: {} });
  });

  it('leaves the partition with the member that holds it when a standby joins', async () => {
    expect(await assign([member('b', true), member('a', false)])).toEqual({ a: {}, b: { t: [1] } });
  });
});
