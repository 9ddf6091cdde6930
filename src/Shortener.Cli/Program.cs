using Shortener.Cli;

return await ShortenerCli.RunAsync(args);
