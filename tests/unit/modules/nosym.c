/* nosym.c - a shared object without the alertsink_module symbol. */
int not_a_module(void);
int not_a_module(void)
{
    return 42;
}
