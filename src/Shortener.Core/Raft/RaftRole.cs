namespace Shortener.Core.Raft;

public enum RaftRole : byte
{
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}
