from gladia_cli.process import main

main()
