using System.CommandLine;
using Herald.Server.Commands;

var root = new RootCommand("Herald: a real-time messaging server — one ordered log per channel, every push technique on top of it.");
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(ClientCommands.CreatePublish());
root.Subcommands.Add(ClientCommands.CreateHistory());
root.Subcommands.Add(TailCommand.Create());
root.Subcommands.Add(TokenCommand.Create());
root.Subcommands.Add(WebhookCommands.Create());
root.Subcommands.Add(DevCertCommand.Create());
var parse = root.Parse(args);

// `serve` drains on SIGTERM for up to Herald:ShutdownTimeout through the host's own signal
// handling; System.CommandLine's default 2 s termination timeout would end the process in the
// middle of that drain with exit code 143 (push clients not told, the SQLite log not closed).
var invocation = new InvocationConfiguration();
if (parse.CommandResult.Command.Name == "serve")
    invocation.ProcessTerminationTimeout = null;
return await parse.InvokeAsync(invocation);
