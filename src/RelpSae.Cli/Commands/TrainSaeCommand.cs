using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Text;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae train-sae</c>: trains an SAE on a model's activations over a text data set (docs/methods.md §7), with
/// atomic checkpoints, --resume, and Ctrl-C that checkpoints; ends with the SAELens folder, its sparsity,
/// feature summaries and means, and the eval-sae metrics. With --output-hook it trains a transcoder instead: features of
/// the --hook activation (an MLP's input) predicting the --output-hook one (that MLP's output).
/// </summary>
public static class TrainSaeCommand
{
    public static Command Create()
    {
        var model = CliDefaults.ModelOption();
        var hook = new Option<string>("--hook") { Description = "TransformerLens hook name, e.g. blocks.2.hook_resid_post (a transcoder's input, e.g. blocks.2.ln2.hook_normalized).", Required = true };
        var outputHook = new Option<string?>("--output-hook")
        {
            Description = "Train a transcoder: features of --hook (an MLP's input: hook_resid_mid, hook_mlp_in, ln2.hook_normalized or mlp.hook_in) predict this hook, the same block's MLP output (blocks.L.hook_mlp_out or blocks.L.mlp.hook_out).",
        };
        var expansion = new Option<int>("--expansion") { Description = "d_sae = expansion × d_in.", DefaultValueFactory = _ => 4 };
        var architecture = new Option<string>("--architecture") { Description = "relu | jumprelu | topk.", DefaultValueFactory = _ => "relu" };
        var k = new Option<int>("--k") { Description = "Active features per token (topk).", DefaultValueFactory = _ => 32 };
        var l1 = new Option<float?>("--l1") { Description = "Sparsity coefficient: L1 (relu) or L0 (jumprelu), on activations normalised to E‖x‖ = √d_in. [default: 5 for relu, 0.2 for jumprelu]" };
        var lr = new Option<float>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 4e-4f };
        var tokens = new Option<long>("--tokens") { Description = "Training tokens (activation rows); steps = tokens / batch.", Required = true };
        var batch = new Option<int>("--batch") { Description = "Rows per optimizer step.", DefaultValueFactory = _ => 4096 };
        var context = new Option<int?>("--context") { Description = "Tokens per context, BOS included. [default: min(128, n_positions)]" };
        var data = new Option<string>("--data") { Description = "Text data set: .txt (blank-line separated documents), .jsonl or .parquet; read again from the start when it runs out.", Required = true };
        var textField = new Option<string>("--text-field") { Description = "JSON field or Parquet column with the text.", DefaultValueFactory = _ => "text" };
        var output = new Option<string>("--out") { Description = "Folder for the checkpoint and the trained SAE.", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initialisation and the activation shuffle.", DefaultValueFactory = _ => 0 };
        var force = Overwrite.ForceOption();
        var resume = new Option<bool>("--resume") { Description = "Continue the checkpoint in --out (same options), ending bit-identical to a run never stopped." };
        var checkpointEvery = new Option<long>("--checkpoint-every") { Description = "Steps between checkpoints (0: only at the end and on Ctrl-C).", DefaultValueFactory = _ => 500 };
        var prependBos = new Option<bool>("--prepend-bos") { Description = "Start every context with <|endoftext|>.", DefaultValueFactory = _ => true };
        var skipBos = new Option<bool>("--skip-bos") { Description = "Leave the BOS position's activation (an outlier) out of training and statistics.", DefaultValueFactory = _ => true };
        var separator = new Option<string>("--separator") { Description = "Token between documents: none, a token id, or a one-token text.", DefaultValueFactory = _ => DefaultSeparator };
        var shuffle = new Option<int>("--shuffle-rows") { Description = "Activation rows shuffled together.", DefaultValueFactory = _ => 65_536 };
        var evalTokens = new Option<long>("--eval-tokens") { Description = "Positions of the final evaluation (as eval-sae).", DefaultValueFactory = _ => 16_384 };
        var json = JsonOutput.Option("the final metrics");
        var command = new Command("train-sae", "Train a sparse autoencoder on a model's activations at a hook over a text data set.")
        {
            model, hook, outputHook, expansion, architecture, k, l1, lr, tokens, batch, context, data, textField, output, seed, resume, force,
            checkpointEvery, prependBos, skipBos, separator, shuffle, evalTokens, json,
        };
        command.SetAction((parse, cancel) =>
        {
            // Everything the user can get wrong is checked before the model runs.
            var bundle = ModelFolder.Load(CliDefaults.ExistingFolder(CliDefaults.ModelPath(parse.GetValue(model)), "--model"), holding: CliDefaults.Holding);
            var hookPoint = bundle.Facts.ParseHook(parse.GetValue(hook)!);
            int width = bundle.Facts.Width(hookPoint, 1);
            HookPoint? written = parse.GetValue(outputHook) is { } outputName
                ? Transcoder.Hooks(bundle.Facts, hookPoint.Name, outputName, width, "--output-hook").Output
                : null;
            var options = TrainingOptions(parse, expansion, architecture, k, l1, lr, tokens, batch, seed, width);
            // A transcoder's b_dec is the bias of its output, not subtracted from its input.
            if (written is not null) options = options with { ApplyBDecToInput = false };
            if (parse.GetValue(checkpointEvery) < 0) throw new RelpSaeException($"--checkpoint-every must be >= 0, got {parse.GetValue(checkpointEvery)}");
            if (parse.GetValue(evalTokens) <= 0) throw new RelpSaeException($"--eval-tokens must be positive, got {parse.GetValue(evalTokens)}");
            int contextLength = parse.GetValue(context) ?? Math.Min(128, bundle.Facts.Context);
            if (contextLength > bundle.Facts.Context)
                throw new RelpSaeException($"--context {contextLength} is longer than the model's context of {bundle.Facts.Context} ({bundle.Facts.ContextKey})");
            bool bos = parse.GetValue(prependBos);
            var packing = new PackingOptions
            {
                ContextLength = contextLength, PrependBos = bos, BosId = bundle.Facts.BosTokenId,
                SeparatorId = Separator(parse.GetValue(separator)!, bundle),
            };
            _ = new ContextPacker(packing);
            // The path is recorded as given, so cfg.json says what a reader of the README would type.
            var givenPath = parse.GetValue(data)!;
            var dataPath = Path.GetFullPath(givenPath);
            if (!File.Exists(dataPath)) throw new RelpSaeException($"--data {dataPath}: file not found");
            // A model without a tokenizer reads token ids, from "input_ids" unless --text-field names another field.
            string field = bundle.Tokenizer is null && parse.GetResult(textField) is null or { Implicit: true } ? IdsField : parse.GetValue(textField)!;
            var settings = new SaeDataSettings(givenPath, field, packing, bos && parse.GetValue(skipBos));
            var outDir = parse.GetValue(output)!;
            var record = SaeTrainingFolder.Record(settings, hookPoint, options, parse.GetValue(shuffle), CommandLine(parse), written);
            DiskSpace.Ensure(outDir, SaeTrainingFolder.BytesNeeded(options, width), "the checkpoints and the SAE");
            // Held to the end, so that a second run on --out is refused rather than mixing its files with this one's.
            using var folder = SaeTrainingFolder.Open(outDir, parse.GetValue(resume), parse.GetValue(force), record);
            var training = new SaeTrainingRun(bundle, hookPoint, settings, outDir, written);
            var checkpoint = training.Checkpoint;

            var source = ModelActivationSource.FromText(bundle, hookPoint, dataPath, packing, new ModelActivationOptions
            {
                ShuffleRows = parse.GetValue(shuffle), SkipFirstPosition = settings.SkipBos, Seed = options.Seed,
            }, settings.TextField, written);
            var trainer = parse.GetValue(resume) ? SaeTrainer.Resume(checkpoint, source) : SaeTrainer.Start(options, source);
            if (trainer.Options != options)
                throw new RelpSaeException($"--resume: {checkpoint} was trained with other options than this command's; repeat the original command with --resume");

            var commandLine = folder.Command;
            var provenance = settings.Provenance(hookPoint.Name, ModelName(CliDefaults.ModelPath(parse.GetValue(model))), new JsonObject { ["command"] = commandLine });
            var sae = Train(training, trainer, parse.GetValue(checkpointEvery), provenance, cancel);
            if (sae is null)
            {
                Console.Error.WriteLine($"interrupted at step {trainer.Step} of {trainer.Options.TotalSteps}; checkpoint saved in {checkpoint}. Resume with: {commandLine} --resume");
                return Task.FromResult(CliRunner.Interrupted);
            }
            if (source.ContextsPerPass is { } perPass)
                Console.Error.WriteLine($"note: the data gives {perPass} contexts per pass; training read {source.ContextsRead} contexts ({(double)source.ContextsRead / perPass:F1} passes)");

            var report = EvalSaeCommand.Evaluate(parse.GetValue(evalTokens), progress => training.Finish(sae, parse.GetValue(evalTokens), progress, cancel));
            var stdout = parse.InvocationConfiguration.Output;
            stdout.WriteLine($"trained {trainer.Step} steps ({trainer.Step * options.BatchSize} tokens); {(written is null ? "SAE" : "transcoder")} saved to {outDir}");
            EvalSaeCommand.Finish(report, JsonOutput.Target(parse, json), stdout, written is null ? "SAE" : "transcoder");
            return Task.FromResult(0);
        });
        return command;
    }

    private static SaeTrainingOptions TrainingOptions(ParseResult parse, Option<int> expansion, Option<string> architecture, Option<int> k,
        Option<float?> l1, Option<float> lr, Option<long> tokens, Option<int> batch, Option<ulong> seed, int dIn)
    {
        var arch = parse.GetValue(architecture)!.ToLowerInvariant() switch
        {
            "relu" or "standard" => SaeArchitecture.Standard,
            "jumprelu" => SaeArchitecture.JumpRelu,
            "topk" => SaeArchitecture.TopK,
            var other => throw new RelpSaeException($"--architecture must be relu, jumprelu or topk, got \"{other}\""),
        };
        int e = parse.GetValue(expansion), b = parse.GetValue(batch);
        long n = parse.GetValue(tokens);
        if (e <= 0) throw new RelpSaeException($"--expansion must be positive, got {e}");
        if (b <= 0) throw new RelpSaeException($"--batch must be positive, got {b}");
        if (n <= 0) throw new RelpSaeException($"--tokens must be positive, got {n}");
        if (n < b) throw new RelpSaeException($"--tokens {n} is less than one batch (--batch {b})");
        if (parse.GetValue(l1) is { } l1Value && !(l1Value >= 0 && float.IsFinite(l1Value)))
            throw new RelpSaeException($"--l1 must be >= 0 and finite, got {l1Value}");
        if (parse.GetValue(l1) is not null && arch == SaeArchitecture.TopK) throw new RelpSaeException("--l1 does not apply to topk (its sparsity is --k)");
        if (!(parse.GetValue(lr) > 0 && float.IsFinite(parse.GetValue(lr)))) throw new RelpSaeException($"--lr must be positive and finite, got {parse.GetValue(lr)}");
        if (arch == SaeArchitecture.TopK && (parse.GetValue(k) <= 0 || parse.GetValue(k) > e * dIn))
            throw new RelpSaeException($"--k must be in 1..d_sae ({e * dIn}), got {parse.GetValue(k)}");
        var options = new SaeTrainingOptions
        {
            Architecture = arch, DSae = e * dIn, K = parse.GetValue(k), BatchSize = b, TotalSteps = n / b,
            Seed = parse.GetValue(seed), LearningRate = parse.GetValue(lr), SparsityCoefficient = parse.GetValue(l1),
        };
        options.Validate(dIn);
        return options;
    }

    private const string DefaultSeparator = "<|endoftext|>";

    /// <summary>The JSONL field a model without a tokenizer reads its token ids from (Hugging Face's name for them).</summary>
    internal const string IdsField = "input_ids";

    /// <summary>none, a token id, or a text that is one token (without a tokenizer, the default text stands for bos_token_id).</summary>
    private static int? Separator(string text, ModelFolder model)
    {
        int vocab = model.Tokenizer?.VocabSize ?? model.Facts.VocabSize;
        if (text.Equals("none", StringComparison.OrdinalIgnoreCase)) return null;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            return id < vocab ? id : throw new RelpSaeException($"--separator id {id} is outside the vocabulary (0..{vocab - 1})");
        if (model.Tokenizer is null && text == DefaultSeparator) return model.Facts.BosTokenId;
        return model.RequireTokenizer("--separator ID or none").SingleToken(text, "--separator");
    }

    private static string ModelName(string modelDir) => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDir)));

    /// <summary>The command line as typed, less --resume: what the run record keeps and an interruption says to repeat.</summary>
    private static string CommandLine(ParseResult parse) =>
        "relp-sae " + string.Join(' ', parse.Tokens.Select(t => t.Value).Where(a => a != "--resume" && a != "--resume=true").Select(Quote));

    internal static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./=:,+@".Contains(c)) ? arg : "'" + arg.Replace("'", "'\\''") + "'";

    /// <summary>Trains with a progress bar; null when Ctrl-C stopped it (after a checkpoint).</summary>
    private static SparseAutoencoder? Train(SaeTrainingRun training, SaeTrainer trainer, long every, SaeProvenance provenance, CancellationToken cancel)
    {
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        ConsoleCancelEventHandler onCtrlC = (_, e) => { e.Cancel = true; interrupt.Cancel(); };
        Console.CancelKeyPress += onCtrlC;
        long startTokens = trainer.Step * trainer.Options.BatchSize;
        long total = (trainer.Options.TotalSteps - trainer.Step) * trainer.Options.BatchSize;
        try
        {
            return ProgressDisplay.Run("train-sae", Math.Max(total, 1), "tok", update =>
                training.Train(trainer, every, provenance, new EvalSaeCommand.Reporter<SaeTrainingProgress>(p => update(p.Tokens - startTokens, Status(p))),
                    interrupt.Token));
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            return null;
        }
        finally { Console.CancelKeyPress -= onCtrlC; }
    }

    private static string Status(SaeTrainingProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"step {p.Step} loss {p.Loss:F4} L0 {p.L0:F1} EV {p.ExplainedVariance:F3} dead {p.DeadFraction:P0}");
}
