"""Errors of the ASR engines (openai-whisper in flows.speech.transcribe, CTranslate2 in
flows.speech.fw_engine), in a module of their own so that neither engine imports the other for them."""


class ModelNotConfigured(RuntimeError):
    """No model was given and none was found."""


class ModelLoadError(RuntimeError):
    """The model is configured but cannot be loaded (corrupt or truncated file, wrong format).

    Unlike a bad recording, this fails the same way for every call, so a batch stops at
    once instead of writing an error row for each of them.
    """
