#compdef gladia

_gladia_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _GLADIA_COMPLETE=complete_zsh gladia)
}

compdef _gladia_completion gladia
