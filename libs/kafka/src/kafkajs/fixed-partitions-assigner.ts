import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const FIXED_PARTITIONS_ASSIGNER = 'ClearsimFixedPartitions';

/**
 * kafkajs has no `assign()` (manual assignment), only group subscription. A
 * shard is a consumer group of its own (`<group>.shard-<i>`) whose leader
 * hands exactly the shard's partitions to one member (the first by member
 * id); any other member of the group (a standby) gets nothing. The other
 * partitions of the topic are never consumed by this group.
 */
export function fixedPartitionsAssigner(topic: string, partitions: readonly number[]): PartitionAssigner {
  const userData = Buffer.alloc(0);
  return () => ({
    name: FIXED_PARTITIONS_ASSIGNER,
    version: 1,
    async assign({ members }) {
      const ids = members.map((m) => m.memberId).sort();
      return ids.map((memberId, i) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: i === 0 ? { [topic]: [...partitions] } : {},
          userData,
        }),
      }));
    },
    protocol({ topics }) {
      return { name: FIXED_PARTITIONS_ASSIGNER, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData }) };
    },
  });
}
