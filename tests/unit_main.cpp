#define BOOST_TEST_MODULE voicebridge unit tests
#include <boost/test/unit_test.hpp>
