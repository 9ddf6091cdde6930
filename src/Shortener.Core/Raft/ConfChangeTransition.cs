namespace Shortener.Core.Raft;

/// <summary>How a membership change is carried out.</summary>
public enum ConfChangeTransition : byte
{
    /// <summary>One voter change: applied directly (a single-voter change keeps majorities overlapping). More: joint consensus, left automatically.</summary>
    Auto,

    /// <summary>Always through a joint configuration, left automatically by the leader.</summary>
    JointImplicit,

    /// <summary>Through a joint configuration that stays until an empty change is proposed to leave it.</summary>
    JointExplicit,
}
