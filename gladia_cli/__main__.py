from gladia_cli.cli import main

main()
