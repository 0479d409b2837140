using RelpSae.Model;
using RelpSae.Text;

namespace RelpSae.Tests.Sae;

/// <summary>The tarot GPT-2 and a small text file in its style (its own samples), for SAE training tests.</summary>
internal static class TarotText
{
    private static readonly Lazy<ModelFolder> Loaded = new(() => ModelFolder.Load(TestPaths.Data("tarot-gpt2")));
    public static ModelFolder Model => Loaded.Value;

    private const string Text = """
        Love the next 24 hours.
        You won't have to do anything special, just go with the flow.
        Others may say it's not what you were hoping to do but you are human and will do it anyway.

        If you give them a hard time today it could lead to a situation you know nothing about.
        The next few days should be fun but if you let someone else take the lead you will be glad you did.

        Be bold and do something out of the ordinary over the next 24 hours.
        The moment is right to tell a partner or colleague what you really think of them.

        There is no need to panic - you are under no obligation to agree with everyone.
        Money matters may be on your mind but a new start is on the way, so take it easy.
        """;

    /// <summary>Writes the text (four blank-line separated documents) to a new file.</summary>
    public static string WriteFile()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "tarot.txt");
        File.WriteAllText(path, Text);
        return path;
    }

    public static PackingOptions Packing(int context = 16) => PackingOptions.Gpt2((Gpt2Tokenizer)Model.Tokenizer!, context);
}
