return RelpSae.Cli.CliApp.Run(args);
