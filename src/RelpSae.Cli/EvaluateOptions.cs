using System.CommandLine;
using RelpSae.Attribution;

namespace RelpSae.Cli;

/// <summary>The three evaluate protocols: single SAE features, whole components, sparse feature circuits.</summary>
internal enum EvaluateProtocol { Features, Components, Circuit }

/// <summary>
/// The options of one evaluate command: those every protocol reads (<see cref="Common"/>) and each
/// protocol's own (<see cref="Of"/>). A protocol's command carries its own set; the `evaluate` that picks
/// the protocol with --level or --circuit carries them all and refuses what the picked one does not read.
/// </summary>
internal sealed class EvaluateOptions
{
    public readonly Option<string?> Prompts = new("--prompts") { Description = "JSONL prompt file: {\"prompt\", \"target\", \"foil\", \"corrupt\"} per line." };
    public readonly Option<string?> Task = new("--task") { Description = "Built-in prompt set: ioi (GPT-2 tokenizer) or contrastive (the default model). [default: contrastive]" };
    public readonly Option<int> N = new("--n") { Description = "Number of prompts of a built-in task.", DefaultValueFactory = _ => 60 };
    public readonly Option<int> Seed = new("--seed") { Description = "Seed of the IOI generator.", DefaultValueFactory = _ => 0 };
    public readonly Option<string> Model = CliDefaults.ModelOption();
    public readonly Option<string> Methods = new("--methods") { Description = $"Comma list: {AttributionMethods.Names}.", DefaultValueFactory = _ => "gradient,ig,relp,relp-ah" };
    public readonly Option<int> IgSteps = new("--ig-steps") { Description = $"Integrated-gradients steps (at most {IntegratedGradients.MaxSteps}).", DefaultValueFactory = _ => 32 };
    public readonly Option<string?> Metric = new("--metric") { Description = "logit | logit-diff | logprob. [default: logit-diff with a foil or corrupted prompt, else logit]" };
    public readonly Option<string?> Baseline = new("--baseline") { Description = "auto | zero | mean | corrupt: what features are patched to (auto: the corrupted prompt if given, else zero). [default: auto]" };
    public readonly Option<string?> Shard = new("--shard") { Description = "i/n: evaluate only prompts whose index is i modulo n (for job arrays; combine with merge)." };
    public readonly Option<string> Output = new("--out") { Description = "Output folder.", Required = true };
    public readonly Option<bool> Resume = new("--resume") { Description = "Continue an interrupted run in --out, skipping prompts already evaluated." };
    public readonly Option<bool> Center = CliDefaults.CenterOption();
    public readonly Option<bool> Bos = CliDefaults.PrependBosOption();
    public readonly Option<string?> Json = JsonOutput.Option("results.json's summary");

    public readonly Option<string> Sae = CliDefaults.SaeOption(transcoders: true);
    public readonly Option<int?> Position = new("--patch-position") { Description = "Patch features at this position only. [default: at every position]" };
    public readonly Option<int> Batch = new("--batch") { Description = "Features (or components) patched per ground-truth forward pass.", DefaultValueFactory = _ => 32 };
    public readonly Option<string?> Components = new("--components") { Description = "With --level components: comma list of types (resid_pre, attn_out, mlp_out, head) or hooks (blocks.L.hook_mlp_out, blocks.L.attn.hook_z, ...). [default: all]" };
    public readonly Option<string?> Saes = SaeSetOptions.SaesOption();
    public readonly Option<bool> PerPosition = SaeSetOptions.PerPositionOption();

    public Option[] Common => [Prompts, Task, N, Seed, Model, Methods, IgSteps, Metric, Baseline, Shard, Output, Resume, Center, Bos, Json];

    /// <summary>The options only <paramref name="protocol"/> reads, besides <see cref="Common"/>.</summary>
    public Option[] Of(EvaluateProtocol protocol) => protocol switch
    {
        EvaluateProtocol.Features => [Sae, Position, Batch],
        EvaluateProtocol.Components => [Batch, Components],
        _ => [Saes, PerPosition],
    };

    /// <summary>The values every protocol reads.</summary>
    public EvaluationRun Bind(ParseResult parse) => new(parse, parse.GetValue(Prompts), parse.GetValue(Task), parse.GetValue(N), parse.GetValue(Seed),
        CliDefaults.ModelPath(parse.GetValue(Model)), parse.GetValue(Methods)!, parse.GetValue(IgSteps), parse.GetValue(Metric), parse.GetValue(Baseline),
        parse.GetValue(Shard), parse.GetValue(Output)!, parse.GetValue(Resume), parse.GetValue(Center), parse.GetValue(Bos), JsonOutput.Target(parse, Json));
}

/// <summary>The settings every evaluate protocol reads, bound from its options (<see cref="EvaluateOptions.Bind"/>).</summary>
internal sealed record EvaluationRun(ParseResult Parse, string? Prompts, string? Task, int N, int Seed, string Model, string Methods, int IgSteps,
    string? Metric, string? Baseline, string? Shard, string Output, bool Resume, bool Center, bool Bos, string? Json);
