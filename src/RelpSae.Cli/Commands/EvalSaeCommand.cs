using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Text;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae eval-sae</c>: the SAE's metrics inside its model (L0, MSE, explained variance, CE loss recovered,
/// dead and dense fractions), and the feature summaries and feature means the attribution commands use:
/// beside the SAE, or in <c>--out</c> with a copy of the SAE. The embedded SAE is part of the tool and is
/// never rewritten, so it needs <c>--out</c>. A transcoder is measured on its MLP's output (explained variance of the
/// output hook; CE with the MLP's output replaced by the prediction, against the MLP zero-ablated).
/// </summary>
public static class EvalSaeCommand
{
    public static Command Create()
    {
        var model = CliDefaults.ModelOption();
        var sae = CliDefaults.SaeOption(transcoders: true);
        var data = DataOption();
        var tokens = new Option<long>("--tokens") { Description = "Positions to evaluate.", DefaultValueFactory = _ => 16_384 };
        var textField = TextFieldOption();
        var json = JsonOutput.Option("the metrics");
        var output = new Option<string?>("--out")
        {
            Description = "Folder for a copy of the SAE with its new feature_summaries.json and feature_means.safetensors (use it as --sae). [default: beside the SAE; required for the embedded SAE, which is never rewritten]",
        };
        var command = new Command("eval-sae", "Measure an SAE inside its model and write its feature summaries and means (beside it, or with a copy of it in --out).") { model, sae, data, tokens, textField, json, output };
        command.SetAction((parse, cancel) =>
        {
            long n = parse.GetValue(tokens);
            if (n <= 0) throw new RelpSaeException($"--tokens must be positive, got {n}");
            var (bundle, saePath) = LoadModel(parse.GetValue(model), parse.GetValue(sae));
            var transcoder = TranscoderFiles.IsTranscoder(saePath) ? TranscoderFiles.Load(saePath) : null;
            var autoencoder = transcoder?.Dictionary ?? SaeFiles.Load(saePath);
            var (hook, written) = transcoder?.Hooks(bundle.Facts, saePath) ?? (SaeFiles.Hook(autoencoder, bundle.Facts, saePath), default);
            var saeDir = CliDefaults.SaeFolder(saePath);
            var settings = DataSettings(autoencoder, bundle, parse.GetValue(data)!, parse.GetValue(textField));
            if (transcoder?.Skip is not null && saePath != saeDir && parse.GetValue(output) is not null)
                throw new RelpSaeException($"--out: {saePath} has a skip connection, which a copy cannot hold yet; evaluate it without --out");
            var outDir = OutputFolder(saeDir, parse.GetValue(output));
            // A Gemma Scope / dictionary_learning / circuit-tracer file copied to --out is written in SAELens' layout, so the folder works as --sae.
            if (saePath != saeDir && outDir != saeDir)
            {
                if (transcoder is null) SaeFiles.Save(outDir, autoencoder);
                else TranscoderFiles.Save(outDir, transcoder);
            }
            var report = Evaluate(n, progress => transcoder is null
                ? SaeModelEvaluation.RunAndSave(bundle, autoencoder, hook, settings, n, outDir, progress, cancel)
                : SaeModelEvaluation.RunAndSave(bundle, transcoder, hook, written, settings, n, outDir, progress, cancel));
            Finish(report, JsonOutput.Target(parse, json), parse.InvocationConfiguration.Output, transcoder is null ? "SAE" : "transcoder");
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>The model and the SAE of --model and --sae, checked against each other, and the SAE's hook.</summary>
    internal static (ModelFolder Bundle, string SaePath, SparseAutoencoder Sae, HookPoint Hook) LoadModelAndSae(string? model, string? sae)
    {
        var (bundle, saePath) = LoadModel(model, sae);
        // A transcoder's features are encoded from its input hook: its dictionary reads there as an SAE reads its own hook.
        if (TranscoderFiles.IsTranscoder(saePath) && TranscoderFiles.Load(saePath) is { } transcoder)
            return (bundle, saePath, transcoder.Dictionary, transcoder.Hooks(bundle.Facts, saePath).Input);
        var autoencoder = SaeFiles.Load(saePath);
        return (bundle, saePath, autoencoder, SaeFiles.Hook(autoencoder, bundle.Facts, saePath));
    }

    /// <summary>The model of --model, processed as the --sae named (whose path is checked) expects.</summary>
    private static (ModelFolder Bundle, string SaePath) LoadModel(string? model, string? sae)
    {
        // A release SAE named on the command line is read on the model processed as it was trained on.
        var bundle = ModelFolder.Load(CliDefaults.ExistingFolder(CliDefaults.ModelPath(model), "--model"),
            Hub.LocalOrHub.ProcessingOf(CliDefaults.SaePath(sae)).CenterWritingWeights, CliDefaults.Holding);
        return (bundle, CliDefaults.ExistingSae(CliDefaults.SaePath(sae)));
    }

    /// <summary>--data of the commands that read a data set the way the SAE's cfg.json says it was trained on.</summary>
    internal static Option<string> DataOption() => new("--data")
    {
        Description = "Text data set (.txt with blank-line documents, .jsonl, .parquet), packed as the SAE's cfg.json says; for a model without a tokenizer, a .jsonl of token ids ({\"input_ids\": [...]} per line).",
        Required = true,
    };

    internal static Option<string?> TextFieldOption() => new("--text-field") { Description = "JSON field or Parquet column with the text. [default: as recorded in cfg.json, else \"text\"]" };

    /// <summary>How <paramref name="data"/> is read and packed for <paramref name="sae"/>: as its cfg.json records, the text field as
    /// <paramref name="textField"/> says if given (a model without a tokenizer reads token ids).</summary>
    internal static SaeDataSettings DataSettings(SparseAutoencoder sae, ModelFolder bundle, string data, string? textField)
    {
        var settings = SaeDataSettings.FromConfig(sae.Config, data, Math.Min(128, bundle.Facts.Context), bundle.Facts.BosTokenId);
        if (textField is not null) return settings with { TextField = textField };
        return bundle.Tokenizer is null && settings.TextField == "text" ? settings with { TextField = TrainSaeCommand.IdsField } : settings;
    }

    /// <summary><see cref="SaeModelEvaluation.RunAndSave"/> with a progress bar.</summary>
    internal static SaeModelReport Evaluate(long tokens, Func<IProgress<long>, SaeModelReport> evaluate) =>
        ProgressDisplay.Run("eval-sae", tokens, "tok", update => evaluate(new Reporter<long>(done => update(done, ""))));

    /// <summary>Where the summaries and means go: beside a user's SAE (a community file's folder), or into
    /// <paramref name="outDir"/> with a copy of the SAE's files, so that folder works as <c>--sae</c>.</summary>
    private static string OutputFolder(string saeDir, string? outDir)
    {
        if (outDir is null)
        {
            if (CliDefaults.IsEmbedded(saeDir))
                throw new RelpSaeException("eval-sae: the embedded SAE is part of the tool and is never rewritten: pass --out DIR for a copy with the new feature summaries and means");
            return saeDir;
        }
        if (CliDefaults.IsEmbedded(outDir))
            throw new RelpSaeException($"--out: {outDir} is inside the tool's embedded models; choose another folder");
        if (Path.GetFullPath(outDir) == Path.GetFullPath(saeDir)) return saeDir;
        Directory.CreateDirectory(outDir);
        foreach (var file in new[] { SaeFiles.ConfigFile, SaeFiles.WeightsFile, SaeFiles.SparsityFile })
            if (File.Exists(Path.Combine(saeDir, file)))
                File.Copy(Path.Combine(saeDir, file), Path.Combine(outDir, file), overwrite: true);
        return outDir;
    }

    /// <summary>Prints the metrics of the <paramref name="dictionary"/> (SAE or transcoder) and writes them as JSON when asked.</summary>
    internal static void Finish(SaeModelReport report, string? jsonPath, TextWriter output, string dictionary = "SAE")
    {
        var m = report.Metrics;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tokens {m.Tokens}  L0 {m.L0:F2}  MSE {m.Mse:G4}  explained variance {m.ExplainedVariance:F4}  dead {m.DeadFraction:P1}  dense {m.DenseFraction:P1}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CE clean {report.CeClean:F4}  with {dictionary} {report.CeSae:F4}  zero-ablated {report.CeZero:F4}  CE loss recovered {report.CeLossRecovered:F4}"));
        if (jsonPath is not null)
            JsonOutput.Write(jsonPath, report.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>An IProgress that reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    internal sealed class Reporter<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
