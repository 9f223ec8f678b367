from ferroweb.cli import main

main()
