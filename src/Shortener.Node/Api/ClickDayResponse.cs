namespace Shortener.Node.Api;

/// <summary>One UTC day of a link's clicks.</summary>
public sealed record ClickDayResponse(string Date, long Total, long NonBot, long Bots);
