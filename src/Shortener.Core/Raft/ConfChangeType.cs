namespace Shortener.Core.Raft;

public enum ConfChangeType : byte
{
    AddNode,
    RemoveNode,
    AddLearner,
}
