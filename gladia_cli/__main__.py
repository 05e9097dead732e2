from gladia_cli.cli.main import main

main()
