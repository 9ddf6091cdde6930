namespace Shortener.Node.Api;

/// <summary>One link's clicks in a summary.</summary>
public sealed record LinkClicksResponse(string Code, long Total, long NonBot, long Bots);
