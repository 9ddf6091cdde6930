namespace Shortener.Core.Membership;

public enum GossipMessageType
{
    /// <summary>A probe; answered by <see cref="Ack"/> with the same sequence number.</summary>
    Ping,
    Ack,
    /// <summary>Probe <see cref="GossipMessage.Target"/> for me and pass its ack on (SWIM's indirect probe).</summary>
    PingReq,
    /// <summary>Updates only, sent to a few random members each gossip interval.</summary>
    Gossip,
    /// <summary>A full state exchange (push-pull), answered by <see cref="PushPullReply"/>.</summary>
    PushPull,
    PushPullReply,
}
