"""The message catalogues: every word policywire says, in every language it speaks."""
