import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const FIXED_PARTITIONS_ASSIGNER = 'ClearsimFixedPartitions';

const OWNER = Buffer.from('owner');
const NONE = Buffer.alloc(0);

/**
 * kafkajs has no `assign()` (manual assignment), only group subscription. A
 * shard is a consumer group of its own (`<group>.shard-<i>-of-<N>`) whose
 * leader hands exactly the shard's partitions to one member; any other member
 * of the group (a standby) gets nothing, and the other partitions of the
 * topic are never consumed by this group. Sticky: a member that holds the
 * partitions says so in its metadata (`isOwner`) and keeps them when a
 * standby joins; otherwise the first member by id gets them.
 */
export function fixedPartitionsAssigner(topic: string, partitions: readonly number[], isOwner: () => boolean = () => false): PartitionAssigner {
  return () => ({
    name: FIXED_PARTITIONS_ASSIGNER,
    version: 1,
    async assign({ members }) {
      const ids = members.map((m) => m.memberId).sort();
      const owner =
        members
          .filter((m) => {
            const metadata = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
            return metadata?.userData?.equals(OWNER) ?? false;
          })
          .map((m) => m.memberId)
          .sort()[0] ?? ids[0];
      return ids.map((memberId) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: memberId === owner ? { [topic]: [...partitions] } : {},
          userData: NONE,
        }),
      }));
    },
    protocol({ topics }) {
      return { name: FIXED_PARTITIONS_ASSIGNER, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: isOwner() ? OWNER : NONE }) };
    },
  });
}
