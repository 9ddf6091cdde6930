namespace Shortener.Core.Raft;

public enum VoteResult : byte
{
    Pending,
    Lost,
    Won,
}
