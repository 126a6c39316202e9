// The owner of a partition when it is this process: requests go straight to its writer (the
// fast path), with the same answers and errors as from an owner in another process.
import { TimeoutError } from '../errors.js';
import { commandRefusal, type CommandRunner } from '../aggregates/command-runner.js';
import { pendingAppendOf, type AppendRequest, type CommandRequest, type CommandResult, type Owner, type SealRequest } from '../owner-protocol/messages.js';
import { AppendOutcomeUnknownError } from '../streams/errors.js';
import type { AppendResult } from '../streams/event.js';
import type { PartitionWriter } from '../writer/partition-writer.js';

export function localOwner(writer: PartitionWriter, commands: CommandRunner): Owner {
  return {
    where: 'local',
    append: (request: AppendRequest, timeoutMs: number) =>
      answered(request.streamId, 'append', writer.partition, timeoutMs, new Promise<AppendResult>((resolve, reject) =>
        writer.enqueue(pendingAppendOf(request, { resolve, reject })),
      )),
    execute: (request: CommandRequest, timeoutMs: number) =>
      answered(request.streamId, 'execute', writer.partition, timeoutMs, new Promise<CommandResult>((resolve, reject) =>
        commands.run(
          { decider: request.decider, commandId: request.commandId, streamId: request.streamId, partitionKey: request.partitionKey, command: JSON.parse(request.payload) as unknown, ...(request.trace ? { trace: request.trace } : {}) },
          writer,
          // A refusal reads the same as from another process's owner (the decider's error is its cause).
          { resolve, reject: (error: unknown) => reject(commandRefusal(error, request.streamId)) },
        ),
      )),
    seal: async (request: SealRequest, timeoutMs: number) => {
      await answered('', 'grow', writer.partition, timeoutMs, writer.sealShard(request.generation, request.to));
    },
  };
}

/**
 * The remote path bounds itself; a writer of this process that does not answer in time
 * (stuck starting, say) may still apply the request later: its outcome is unknown. (A
 * TimeoutError the writer itself answers with stays what it is.)
 */
async function answered<T>(streamId: string, operation: string, partition: number, timeoutMs: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const bound = new TimeoutError(operation, timeoutMs);
      reject(new AppendOutcomeUnknownError(streamId, `${operation} got no answer from the writer of partition ${partition} within ${timeoutMs} ms`, { cause: bound }));
    }, timeoutMs);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
