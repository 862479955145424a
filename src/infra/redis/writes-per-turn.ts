import { Redis } from 'ioredis';

/**
 * Sends the commands a connection issues during one turn of the event loop in one
 * socket write: its socket is corked at the turn's first command and uncorked at the
 * end of the turn. What goes out, and in what order, is unchanged (pipelines and
 * scripts write to the same socket); only the number of writes falls. Each write
 * wakes Redis and costs this process a system call; on two shared cores that is what
 * a BullMQ worker finishing a batch of jobs, one completion command each, spent most.
 * Unlike ioredis' auto-pipelining it changes nothing in how commands are queued or
 * answered. Any other client (a Cluster, whose node connections are its own, or
 * another library's that BullMQ can be given) is left as it is.
 */
export function writesPerTurn(client: unknown): void {
  if (!(client instanceof Redis)) return;
  const send = client.sendCommand.bind(client);
  let corked = false;
  client.sendCommand = (command, stream) => {
    // Only a command written straight to the live socket: anything else (offline
    // queue, a pipeline's own buffer) is written later by ioredis itself.
    const socket = client.stream;
    if (!corked && !stream && client.status === 'ready' && socket?.writable) {
      corked = true;
      socket.cork();
      setImmediate(() => {
        corked = false;
        // A socket closed meanwhile has nothing left to send; ioredis resends what
        // was not answered once it reconnects.
        socket.uncork();
      });
    }
    return send(command, stream);
  };
}
