using System.CommandLine;
using Herald.Server.Commands;

var root = new RootCommand("Herald: a real-time messaging server — one ordered log per channel, every push technique on top of it.");
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(ClientCommands.CreatePublish());
root.Subcommands.Add(ClientCommands.CreateHistory());
root.Subcommands.Add(TailCommand.Create());
root.Subcommands.Add(TokenCommand.Create());
root.Subcommands.Add(WebhookCommands.Create());
return await root.Parse(args).InvokeAsync();
