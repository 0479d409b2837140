namespace RelpSae;

/// <summary>
/// An error caused by the user's input (a file, tensor, token or option): its message is one line
/// that names the thing at fault, and the CLI prints it without a stack trace.
/// </summary>
public class RelpSaeException(string message, Exception? inner = null) : Exception(message, inner);
