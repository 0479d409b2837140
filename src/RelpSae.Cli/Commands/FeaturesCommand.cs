using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using RelpSae.Dashboards;
using RelpSae.Text;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae features</c>: feature dashboards (top-activating contexts with per-token activations, activation
/// histogram, density, top and bottom output tokens) for every feature of an SAE, from one streaming pass over a
/// text data set read as eval-sae reads it, written to <c>--out</c>/features.json.
/// </summary>
public static class FeaturesCommand
{
    public static Command Create()
    {
        var model = CliDefaults.ModelOption();
        var sae = CliDefaults.SaeOption();
        var data = EvalSaeCommand.DataOption();
        var tokens = new Option<long>("--tokens") { Description = "Positions to read.", DefaultValueFactory = _ => 16_384 };
        var context = new Option<int?>("--context") { Description = "Tokens per context, BOS included. [default: the SAE's context_size in cfg.json, else min(128, n_positions)]" };
        var textField = EvalSaeCommand.TextFieldOption();
        var top = new Option<int>("--top") { Description = "Top-activating contexts kept per feature.", DefaultValueFactory = _ => new DashboardOptions().TopContexts };
        var window = new Option<int>("--window") { Description = $"Tokens shown before each context's peak token ({new DashboardOptions().WindowAfter} are shown after it).", DefaultValueFactory = _ => new DashboardOptions().WindowBefore };
        var output = new Option<string>("--out") { Description = $"Folder for {DashboardFile.FileName} (the SAE's folder, for attribute to show each feature's best context).", Required = true };
        var json = JsonOutput.Option("a summary");
        var command = new Command("features", "Feature dashboards for every feature of an SAE: top-activating contexts, activation histogram and density, top and bottom output tokens.")
        {
            model, sae, data, tokens, context, textField, top, window, output, json,
        };
        command.SetAction((parse, cancel) =>
        {
            // Everything the user can get wrong is checked before the model runs.
            long n = parse.GetValue(tokens);
            if (n <= 0) throw new RelpSaeException($"--tokens must be positive, got {n}");
            var options = new DashboardOptions { TopContexts = parse.GetValue(top), WindowBefore = parse.GetValue(window) };
            options.Validate();
            var dataPath = parse.GetValue(data)!;
            if (!File.Exists(dataPath)) throw new RelpSaeException($"--data {Path.GetFullPath(dataPath)}: file not found");
            var outDir = parse.GetValue(output)!;
            if (CliDefaults.IsEmbedded(outDir)) throw new RelpSaeException($"--out: {outDir} is inside the tool's embedded models; choose another folder");

            var (bundle, saePath, autoencoder, hook) = EvalSaeCommand.LoadModelAndSae(parse.GetValue(model), parse.GetValue(sae));
            var settings = EvalSaeCommand.DataSettings(autoencoder, bundle, dataPath, parse.GetValue(textField));
            if (parse.GetValue(context) is { } length)
            {
                if (length > bundle.Facts.Context)
                    throw new RelpSaeException($"--context {length} is longer than the model's context of {bundle.Facts.Context} ({bundle.Facts.ContextKey})");
                settings = settings with { Packing = settings.Packing with { ContextLength = length } };
            }
            var contexts = new ContextPacker(settings.Packing).Pack(Documents.ReadTokens(settings.DataPath, settings.TextField, bundle.Tokenizer));

            Directory.CreateDirectory(outDir);
            var dashboards = ProgressDisplay.Run("features", n, "tok", update => FeatureDashboards.Collect(bundle.Transformer, autoencoder, hook, contexts, n,
                settings.SkipBos, options, new EvalSaeCommand.Reporter<long>(done => update(done, "")), cancel));
            var file = Path.Combine(outDir, DashboardFile.FileName);
            DashboardFile.Write(file, dashboards, bundle.TokenText, new JsonObject
            {
                ["model"] = Path.GetFullPath(bundle.Dir), ["sae"] = Path.GetFullPath(saePath), ["hook_name"] = hook.Name, ["data"] = Path.GetFullPath(dataPath),
            });
            Finish(dashboards, file, JsonOutput.Target(parse, json), parse.InvocationConfiguration.Output);
            return Task.FromResult(0);
        });
        return command;
    }

    private static void Finish(FeatureDashboards d, string file, string? jsonPath, TextWriter output)
    {
        int dead = d.DeadFeatures;
        output.WriteLine($"dashboards of {d.DSae} features over {d.Tokens:N0} tokens ({d.Contexts:N0} contexts of {d.ContextLength}) written to {file}; {dead} never fired");
        if (jsonPath is null) return;
        var summary = new JsonObject
        {
            ["file"] = Path.GetFullPath(file), ["d_sae"] = d.DSae, ["tokens"] = d.Tokens, ["contexts"] = d.Contexts, ["context_size"] = d.ContextLength,
            ["dead_features"] = dead, ["top"] = d.Options.TopContexts, ["window_before"] = d.Options.WindowBefore, ["window_after"] = d.Options.WindowAfter,
        };
        JsonOutput.Write(jsonPath, summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
