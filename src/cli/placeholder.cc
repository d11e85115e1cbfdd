// placeholder until the real main lands; delete it then.
int main() { return 125; }
