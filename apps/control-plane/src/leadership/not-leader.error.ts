/**
 * Thrown by work only the leader may do when this replica is not (or no longer) the leader. It is
 * never a failure of the work itself: an operation that meets it is left for the next leader.
 */
export class NotLeaderError extends Error {
  constructor(what: string) {
    super(`${what}: this control-plane replica is not the leader`);
  }
}
