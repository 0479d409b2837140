namespace RelpSae.Prompts;

/// <summary>
/// Indirect-object-identification prompts (Wang et al. 2022) for the GPT-2 tokenizer: "When Mary and
/// John went to the store, John gave a drink to" → target " Mary" (the indirect object), foil " John".
/// The corrupted prompt puts two other names in the same slots, so it has the same token length and
/// carries no information about which name is the answer.
/// </summary>
public static class IoiPrompts
{
    private static readonly string[] Templates =
    [
        "When {A} and {B} went to the {PLACE}, {B} gave a {OBJECT} to",
        "When {A} and {B} got a {OBJECT} at the {PLACE}, {B} decided to give it to",
        "After {A} and {B} went to the {PLACE}, {B} gave a {OBJECT} to",
        "While {A} and {B} were working at the {PLACE}, {B} gave a {OBJECT} to",
        "Then, {A} and {B} had a long argument. Afterwards {B} said to",
        "Friends {A} and {B} found a {OBJECT} at the {PLACE}. {B} gave it to",
        "The {PLACE} {A} and {B} went to had a {OBJECT}. {B} gave it to",
        "When {A} and {B} arrived at the {PLACE}, {B} handed the {OBJECT} to",
    ];

    private static readonly string[] Names =
    [
        "Mary", "John", "Tom", "James", "Dan", "Sid", "Martin", "Amy", "Paul", "Kate", "Mike", "Anne", "Rose",
        "Lisa", "Jane", "Sarah", "David", "Michael", "Chris", "Alex", "Ryan", "Mark", "Peter", "Laura", "Emma",
        "Lucy", "Jack", "Adam", "Ben", "Sam", "Joe", "Steve", "Anna", "Ruth", "Helen", "George", "Frank",
        "Henry", "Eric", "Kevin", "Scott", "Brian", "Jason", "Matt", "Nick", "Tim", "Bob", "Bill", "Carl",
    ];

    private static readonly string[] Places = ["store", "park", "school", "garden", "restaurant", "office", "hospital", "station", "house", "beach"];
    private static readonly string[] Objects = ["drink", "ring", "kiss", "book", "bone", "basketball", "computer", "necklace"];

    /// <summary>
    /// n deterministic cases for a seed. <paramref name="isSingleToken"/> says whether " Name" is one
    /// token for the model's tokenizer; names that are not are skipped, and fewer than four usable
    /// names is an error (the tokenizer is not GPT-2's).
    /// </summary>
    public static IReadOnlyList<PromptCase> Generate(int n, int seed, Func<string, bool> isSingleToken)
    {
        if (n <= 0) throw new SettingException(name => $"{name(Setting.PromptCount)} must be positive, got {n}");
        var names = Names.Where(name => isSingleToken(" " + name)).ToArray();
        if (names.Length < 4)
            throw new RelpSaeException($"the IOI task needs single-token names, and this tokenizer has only {names.Length} of {Names.Length}: use a GPT-2 tokenizer model");
        var rng = new Random(seed);
        var cases = new List<PromptCase>(n);
        for (int i = 0; i < n; i++)
        {
            var template = Templates[i % Templates.Length];
            var place = Places[rng.Next(Places.Length)];
            var obj = Objects[rng.Next(Objects.Length)];
            var four = Distinct(rng, names, 4);
            string Fill(string a, string b) =>
                template.Replace("{A}", a).Replace("{B}", b).Replace("{PLACE}", place).Replace("{OBJECT}", obj);
            cases.Add(new PromptCase(Fill(four[0], four[1]), " " + four[0], " " + four[1], Fill(four[2], four[3])));
        }
        return cases;
    }

    private static string[] Distinct(Random rng, string[] pool, int count)
    {
        var chosen = new List<string>(count);
        while (chosen.Count < count)
        {
            var name = pool[rng.Next(pool.Length)];
            if (!chosen.Contains(name)) chosen.Add(name);
        }
        return [.. chosen];
    }
}
