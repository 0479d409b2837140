namespace RelpSae;

/// <summary>
/// An input error about the caller's settings. Its text is written once, as a function of what each
/// <see cref="Setting"/> is called: <see cref="Exception.Message"/> calls them in the library's words
/// (<see cref="SettingNames.Library"/>), and a front end says the same in its own (<see cref="Naming"/>)
/// without parsing the message.
/// </summary>
public sealed class SettingException(Func<Func<Setting, string>, string> text) : RelpSaeException(text(SettingNames.Library))
{
    /// <summary>The message with every setting called <paramref name="name"/>(setting).</summary>
    public string Naming(Func<Setting, string> name) => text(name);
}
