using RelpSae.Model;
using System.Text;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using RelpSae.Formats;
using RelpSae.Formats.Pickle;
using RelpSae.Text;

namespace RelpSae.Tests.Formats;

/// <summary>
/// Random programs for the unpickler and random damage to config.json and tokenizer.json: every reader
/// either succeeds or throws a one-line RelpSaeException, and no case allocates more than a fixed cap
/// (measured on the reading thread). Time-boxed by the case counts: a few seconds in all.
/// </summary>
public class FuzzProperties
{
    private const long MemoryCap = 256L << 20;
    private static readonly string TarotConfig = File.ReadAllText(TestPaths.Data("tarot-gpt2", "config.json"));
    private static readonly string TarotTokenizer = File.ReadAllText(TestPaths.Data("tarot-gpt2", "tokenizer.json"));

    private static bool CleanAndBounded(Action read)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        bool clean;
        try { read(); clean = true; }
        catch (RelpSaeException e) { clean = !e.Message.Contains('\n'); }
        return clean && GC.GetAllocatedBytesForCurrentThread() - before < MemoryCap;
    }

    // Every opcode the unpickler knows, and a few it does not, with operands drawn as random bytes after them.
    private static readonly byte[] Opcodes = [.. "()NKMJG.X]})tldaesuqrhjcRQb"u8, 0x80, 0x95, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x85, 0x86, 0x87, 0x93, 0x94, 0x00, 0xff];

    private static Arbitrary<byte[]> Programs() => Gen.ListOf(Gen.OneOf(
            Gen.Elements(Opcodes).Select(b => new[] { b }),
            Gen.Choose(0, 8).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i), n)),
            Gen.Elements("ccollections\nOrderedDict\n"u8.ToArray(), "ctorch._utils\n_rebuild_tensor_v2\n"u8.ToArray(), "ctorch\nFloatStorage\n"u8.ToArray())))
        .Select(parts => parts.SelectMany(p => p).ToArray()).ToArbitrary();

    [Property(MaxTest = 500)]
    public Property RandomPicklePrograms() =>
        Prop.ForAll(Programs(), program => CleanAndBounded(() => RestrictedUnpickler.Load(program, "fuzz.pkl")));

    /// <summary>A random JSON value of the kinds that confuse readers: wrong types, huge and negative numbers, nulls.</summary>
    private static readonly Gen<JsonNode?> Values = Gen.Elements<Func<JsonNode?>>(
        () => null, () => JsonValue.Create(5), () => JsonValue.Create(-1), () => JsonValue.Create(int.MaxValue), () => JsonValue.Create(1e300),
        () => JsonValue.Create(0.5), () => JsonValue.Create("gpt2"), () => JsonValue.Create(""), () => JsonValue.Create(true),
        () => new JsonArray(), () => new JsonArray(JsonValue.Create("a b")), () => new JsonObject(), () => new JsonObject { ["type"] = 5 })
        .Select(make => make());

    /// <summary>Replaces the value at a random path (chosen by <paramref name="picks"/>) with <paramref name="value"/>.</summary>
    private static string Replace(string json, int[] picks, JsonNode? value)
    {
        var root = JsonNode.Parse(json)!;
        JsonNode node = root;
        for (int i = 0; i < picks.Length; i++)
        {
            var children = node switch
            {
                JsonObject o => o.Select(p => p.Value).ToList(),
                JsonArray a => [.. a],
                _ => [],
            };
            var child = children.Count == 0 ? null : children[picks[i] % children.Count];
            if (child is null || i == picks.Length - 1) { Set(node, picks[i], value); break; }
            node = child;
        }
        return root.ToJsonString();
    }

    private static void Set(JsonNode parent, int pick, JsonNode? value)
    {
        switch (parent)
        {
            case JsonObject o when o.Count > 0: o[o.ElementAt(pick % o.Count).Key] = value; break;
            case JsonArray a when a.Count > 0: a[pick % a.Count] = value; break;
        }
    }

    private static Arbitrary<(int[] Picks, JsonNode? Value)> Edits() =>
        Gen.Zip(Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 100_000), n)), Values).ToArbitrary();

    private static string WriteFolder(string file, string text)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"relpsae-fuzz-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, file), text);
        return dir;
    }

    [Property(MaxTest = 300)]
    public Property EditedConfigs() => Prop.ForAll(Edits(), edit =>
    {
        var dir = WriteFolder("config.json", Replace(TarotConfig, edit.Picks, edit.Value));
        return CleanAndBounded(() => Gpt2Config.Read(Path.Combine(dir, "config.json")));
    });

    [Property(MaxTest = 60)]
    public Property EditedTokenizers() => Prop.ForAll(Edits(), edit =>
    {
        var dir = WriteFolder("tokenizer.json", Replace(TarotTokenizer, edit.Picks, edit.Value));
        return CleanAndBounded(() => Gpt2Tokenizer.Load(dir).Encode("Love, trust and the moon."));
    });

    [Property(MaxTest = 60)]
    public Property DamagedTokenizerBytes(NonNegativeInt position, byte xor, NonNegativeInt cut, bool truncate)
    {
        var bytes = Encoding.UTF8.GetBytes(TarotTokenizer);
        bytes[position.Get % bytes.Length] ^= xor;
        var dir = WriteFolder("tokenizer.json", "");
        File.WriteAllBytes(Path.Combine(dir, "tokenizer.json"), truncate ? bytes[..(cut.Get % bytes.Length)] : bytes);
        return CleanAndBounded(() => Gpt2Tokenizer.Load(dir).Encode("Love, trust and the moon.")).ToProperty();
    }
}
